"""The IAM/STS acceptance tour with boto3 (a client nobody on this project wrote), run by
test/e2e/iam-sts-clients.test.ts against a live server. Endpoint, admin keys and the config file come from
the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID…, AWS_CONFIG_FILE). Prints DONE when every step held."""
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

ACCOUNT = os.environ["TRENT_ACCOUNT"]
REGION = "us-east-1"
admin = boto3.session.Session(region_name=REGION)
iam = admin.client("iam")
sts = admin.client("sts")
kms_admin = admin.client("kms")


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def expect_error(code, fn):
    try:
        fn()
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, (code, e.response["Error"])
        return e
    raise AssertionError(f"expected {code}")


# Typed exceptions from the XML error shape.
try:
    iam.get_user(UserName="nobody")
    raise AssertionError("expected NoSuchEntity")
except iam.exceptions.NoSuchEntityException as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404

iam.create_user(UserName="dave")
try:
    iam.create_user(UserName="dave")
    raise AssertionError("expected EntityAlreadyExists")
except iam.exceptions.EntityAlreadyExistsException:
    pass
try:
    iam.create_policy(PolicyName="broken", PolicyDocument='{"Statement": 5')
    raise AssertionError("expected MalformedPolicyDocument")
except iam.exceptions.MalformedPolicyDocumentException:
    pass

# A user and access key; a managed policy through a group decides KMS.
key = iam.create_access_key(UserName="dave")["AccessKey"]
dave = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)
kms_dave = dave.client("kms")
expect_error("AccessDeniedException", kms_dave.list_keys)
iam.create_group(GroupName="kms-users")
iam.add_user_to_group(GroupName="kms-users", UserName="dave")
arn = iam.create_policy(PolicyName="kms-list", PolicyDocument=doc({"Effect": "Allow", "Action": "kms:ListKeys", "Resource": "*"}))["Policy"]["Arn"]
iam.attach_group_policy(GroupName="kms-users", PolicyArn=arn)
kms_dave.list_keys()
assert dave.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/dave"
# Deactivated: refused at the next request.
iam.update_access_key(UserName="dave", AccessKeyId=key["AccessKeyId"], Status="Inactive")
expect_error("UnrecognizedClientException", kms_dave.list_keys)
expect_error("InvalidClientTokenId", dave.client("sts").get_caller_identity)

# A role whose trust policy requires an ExternalId; a session policy narrower than the role's.
role_arn = iam.create_role(
    RoleName="auditor",
    AssumeRolePolicyDocument=doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole",
                                  "Condition": {"StringEquals": {"sts:ExternalId": "xyz"}}}),
)["Role"]["Arn"]
iam.put_role_policy(RoleName="auditor", PolicyName="kms", PolicyDocument=doc({"Effect": "Allow", "Action": ["kms:ListKeys", "kms:DescribeKey"], "Resource": "*"}))
e = expect_error("AccessDenied", lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"))
assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="xyz",
                        Policy=doc({"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}))["Credentials"]
temp = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"], region_name=REGION)
assert temp.client("sts").get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/auditor/s1"
key_id = kms_admin.create_key()["KeyMetadata"]["KeyId"]
temp.client("kms").describe_key(KeyId=key_id)
expect_error("AccessDeniedException", temp.client("kms").list_keys)

# A config profile with role_arn + source_profile: boto3's own credential chain assumes the role.
profiled = boto3.session.Session(profile_name="auditor")
assert profiled.client("sts").get_caller_identity()["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/auditor/")
profiled.client("kms").list_keys()
print("DONE")
