# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""boto3 ``bedrock`` and ``sts`` clients against the emulator: every control-plane operation and error."""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError

from bedrock_emulator.pytest_plugin import error_of

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
OPUS46 = "anthropic.claude-opus-4-6-v1"
HAIKU35 = "anthropic.claude-3-5-haiku-20241022-v1:0"


def test_list_foundation_models_default_lineup(emu):
    summaries = emu.client("bedrock").list_foundation_models()["modelSummaries"]
    ids = {m["modelId"] for m in summaries}
    assert {SONNET, OPUS46, HAIKU35, "anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-opus-4-5-20251101-v1:0",
            "anthropic.claude-opus-4-1-20250805-v1:0", "anthropic.claude-sonnet-4-20250514-v1:0",
            "anthropic.claude-3-7-sonnet-20250219-v1:0"} <= ids
    sonnet = next(m for m in summaries if m["modelId"] == SONNET)
    assert sonnet["modelArn"] == "arn:aws:bedrock:us-east-1::foundation-model/" + SONNET
    assert sonnet["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]
    assert sonnet["modelLifecycle"]["status"] == "ACTIVE"
    assert sonnet["responseStreamingSupported"] is True
    assert isinstance(sonnet["modelLifecycle"]["startOfLifeTime"], datetime.datetime)
    legacy = next(m for m in summaries if m["modelId"] == "anthropic.claude-3-7-sonnet-20250219-v1:0")
    assert legacy["modelLifecycle"]["status"] == "LEGACY"
    assert isinstance(legacy["modelLifecycle"]["endOfLifeTime"], datetime.datetime)


def test_list_foundation_models_filters(emu):
    client = emu.client("bedrock")
    anthropic = client.list_foundation_models(byProvider="anthropic")["modelSummaries"]
    assert anthropic and all(m["providerName"] == "Anthropic" for m in anthropic)
    on_demand = client.list_foundation_models(byInferenceType="ON_DEMAND")["modelSummaries"]
    assert {m["modelId"] for m in on_demand} == {HAIKU35, "amazon.nova-lite-v1:0", "amazon.titan-embed-text-v2:0"}
    embedding = client.list_foundation_models(byOutputModality="EMBEDDING")["modelSummaries"]
    assert [m["modelId"] for m in embedding] == ["amazon.titan-embed-text-v2:0"]
    assert client.list_foundation_models(byInferenceType="PROVISIONED")["modelSummaries"] == []
    assert client.list_foundation_models(byCustomizationType="FINE_TUNING")["modelSummaries"] == []


def test_list_foundation_models_is_per_region(emu):
    ids_ca = {m["modelId"] for m in emu.client("bedrock", region_name="ca-central-1").list_foundation_models()["modelSummaries"]}
    assert SONNET in ids_ca  # via global. profiles
    assert "anthropic.claude-opus-4-1-20250805-v1:0" not in ids_ca  # us. only
    assert HAIKU35 not in ids_ca


def test_list_foundation_models_bad_enum_is_validation_error(emu):
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock").list_foundation_models(byInferenceType="SOMETIMES")
    code, status, message = error_of(exc)
    assert (code, status) == ("ValidationException", 400)
    assert "byInferenceType" in message and "ON_DEMAND" in message


def test_get_foundation_model_by_id_and_arn(emu):
    client = emu.client("bedrock")
    details = client.get_foundation_model(modelIdentifier=OPUS46)["modelDetails"]
    assert details["modelId"] == OPUS46 and details["modelName"] == "Claude Opus 4.6"
    arn = "arn:aws:bedrock:us-east-1::foundation-model/" + SONNET
    assert client.get_foundation_model(modelIdentifier=arn)["modelDetails"]["modelId"] == SONNET


def test_get_foundation_model_unknown(emu):
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock").get_foundation_model(modelIdentifier="anthropic.claude-nonexistent-v1:0")
    assert error_of(exc)[:2] == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize("status, expected", [
    ("AUTHORIZED", ("AVAILABLE", "AUTHORIZED", "AVAILABLE", "AVAILABLE")),
    ("DENIED", ("NOT_AVAILABLE", "NOT_AUTHORIZED", "AVAILABLE", "AVAILABLE")),
    ("AGREEMENT_PENDING", ("PENDING", "AUTHORIZED", "AVAILABLE", "AVAILABLE")),
    ("USE_CASE_REQUIRED", ("ERROR", "NOT_AUTHORIZED", "NOT_AVAILABLE", "AVAILABLE")),
    ("REGION_UNAVAILABLE", ("NOT_AVAILABLE", "AUTHORIZED", "NOT_AVAILABLE", "NOT_AVAILABLE")),
])
def test_get_foundation_model_availability(bedrock_emulator, status, expected):
    emu = bedrock_emulator(overrides={"access": {OPUS46: status}})
    out = emu.client("bedrock").get_foundation_model_availability(modelId=OPUS46)
    got = (out["agreementAvailability"]["status"], out["authorizationStatus"], out["entitlementAvailability"], out["regionAvailability"])
    assert got == expected
    if status == "USE_CASE_REQUIRED":
        assert out["agreementAvailability"]["errorMessage"].startswith("Model use case details have not been submitted")


def test_availability_outside_model_regions(emu):
    out = emu.client("bedrock", region_name="ca-central-1").get_foundation_model_availability(modelId=HAIKU35)
    assert out["regionAvailability"] == "NOT_AVAILABLE"


def test_availability_unknown_model(emu):
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock").get_foundation_model_availability(modelId="anthropic.nope-v1:0")
    assert error_of(exc)[:2] == ("ResourceNotFoundException", 404)


def test_list_inference_profiles_system_default_type(emu):
    summaries = emu.client("bedrock").list_inference_profiles()["inferenceProfileSummaries"]
    ids = {p["inferenceProfileId"] for p in summaries}
    assert "us." + SONNET in ids and "global." + SONNET in ids and "us." + OPUS46 in ids
    assert not any(i.startswith(("eu.", "apac.")) for i in ids)
    assert all(p["type"] == "SYSTEM_DEFINED" and p["status"] == "ACTIVE" for p in summaries)
    us_sonnet = next(p for p in summaries if p["inferenceProfileId"] == "us." + SONNET)
    assert us_sonnet["inferenceProfileArn"] == "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us." + SONNET
    expected = ["arn:aws:bedrock:%s::foundation-model/%s" % (r, SONNET) for r in ("us-east-1", "us-east-2", "us-west-2")]
    assert [m["modelArn"] for m in us_sonnet["models"]] == expected


def test_list_inference_profiles_region_geography(emu):
    ids = {p["inferenceProfileId"] for p in emu.client("bedrock", region_name="eu-west-1").list_inference_profiles(
        typeEquals="SYSTEM_DEFINED")["inferenceProfileSummaries"]}
    assert "eu." + SONNET in ids and "global." + SONNET in ids and not any(i.startswith("us.") for i in ids)


def test_list_inference_profiles_application(emu):
    client = emu.client("bedrock")
    apps = client.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    assert [p["inferenceProfileId"] for p in apps] == ["fleetsonnet45a"]
    assert apps[0]["inferenceProfileArn"] == "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetsonnet45a"
    assert apps[0]["type"] == "APPLICATION"
    assert len(apps[0]["models"]) == 3
    eu_apps = emu.client("bedrock", region_name="eu-central-1").list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    assert [p["inferenceProfileId"] for p in eu_apps] == ["fleethaiku45eu"]


def test_list_inference_profiles_pagination(emu):
    client = emu.client("bedrock")
    everything = [p["inferenceProfileId"] for p in client.list_inference_profiles()["inferenceProfileSummaries"]]
    first = client.list_inference_profiles(maxResults=3)
    assert len(first["inferenceProfileSummaries"]) == 3 and first["nextToken"]
    second = client.list_inference_profiles(maxResults=3, nextToken=first["nextToken"])
    assert [p["inferenceProfileId"] for p in second["inferenceProfileSummaries"]] == everything[3:6]
    paged = [p["inferenceProfileId"] for page in client.get_paginator("list_inference_profiles").paginate(PaginationConfig={"PageSize": 4})
             for p in page["inferenceProfileSummaries"]]
    assert paged == everything and len(everything) > 8
    last = client.list_inference_profiles(maxResults=len(everything))
    assert "nextToken" not in last


def test_list_inference_profiles_bad_token_and_range(emu):
    client = emu.client("bedrock")
    with pytest.raises(ClientError) as exc:
        client.list_inference_profiles(nextToken="not-a-token")
    assert error_of(exc)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as exc:
        client.list_inference_profiles(maxResults=1001)
    code, dummy, message = error_of(exc)
    assert code == "ValidationException" and "maxResults" in message


def test_get_inference_profile_by_id_and_arn(emu):
    client = emu.client("bedrock")
    out = client.get_inference_profile(inferenceProfileIdentifier="global." + OPUS46)
    assert out["inferenceProfileId"] == "global." + OPUS46 and out["type"] == "SYSTEM_DEFINED"
    assert len(out["models"]) == 13
    app_arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetsonnet45a"
    app = client.get_inference_profile(inferenceProfileIdentifier=app_arn)
    assert app["inferenceProfileName"] == "fleet-sonnet-4-5" and app["type"] == "APPLICATION"
    assert client.get_inference_profile(inferenceProfileIdentifier="fleetsonnet45a")["inferenceProfileArn"] == app_arn


@pytest.mark.parametrize("identifier, region", [
    ("eu." + SONNET, "us-east-1"),  # exists, but not in this region's geography
    ("us.anthropic.claude-unknown-v1:0", "us-east-1"),
    ("fleetsonnet45a", "us-west-2"),  # application profiles live in one region
])
def test_get_inference_profile_not_found(bedrock_emulator, identifier, region):
    emu = bedrock_emulator()
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock", region_name=region).get_inference_profile(inferenceProfileIdentifier=identifier)
    assert error_of(exc)[:2] == ("ResourceNotFoundException", 404)


def test_iam_deny_list_inference_profiles(bedrock_emulator):
    emu = bedrock_emulator("iam_deny_list_profiles")
    client = emu.client("bedrock")
    with pytest.raises(ClientError) as exc:
        client.list_inference_profiles()
    code, status, message = error_of(exc)
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == ("User: arn:aws:iam::123456789012:user/fleet-developer is not authorized to perform: bedrock:ListInferenceProfiles "
                       "on resource: arn:aws:bedrock:us-east-1:123456789012:inference-profile/* because no identity-based policy allows the "
                       "bedrock:ListInferenceProfiles action")
    # Other actions stay allowed.
    assert client.get_inference_profile(inferenceProfileIdentifier="us." + SONNET)["status"] == "ACTIVE"


def test_iam_deny_with_resource_glob(bedrock_emulator):
    emu = bedrock_emulator(overrides={"iam": {"deny": [{"action": "bedrock:GetFoundationModel", "resource": "*foundation-model/anthropic.claude-opus-*"}]}})
    client = emu.client("bedrock")
    with pytest.raises(ClientError) as exc:
        client.get_foundation_model(modelIdentifier=OPUS46)
    assert error_of(exc)[0] == "AccessDeniedException"
    assert client.get_foundation_model(modelIdentifier=SONNET)["modelDetails"]["modelId"] == SONNET


def test_sts_get_caller_identity(emu):
    out = emu.client("sts").get_caller_identity()
    assert (out["Account"], out["Arn"], out["UserId"]) == ("123456789012", "arn:aws:iam::123456789012:user/fleet-developer", "AIDAEMULATOREXAMPLE01")


def test_sts_assumed_role_identity(emu):
    out = emu.client("sts", aws_access_key_id="ASIAEMULATORSESSION1", aws_secret_access_key="emulatorSessionSecretKey0000000000000000",
                     aws_session_token="emulator-session-token-0001").get_caller_identity()
    assert out["Arn"] == "arn:aws:sts::123456789012:assumed-role/ClaudeCodeBedrock/fleet-developer"
    assert out["UserId"] == "AROAEMULATOREXAMPLE01:fleet-developer"


def test_custom_account_via_overrides(bedrock_emulator):
    emu = bedrock_emulator(overrides={"account_id": "210987654321", "caller_arn": "arn:aws:iam::210987654321:user/other"})
    assert emu.client("sts").get_caller_identity()["Account"] == "210987654321"
    profile = emu.client("bedrock").get_inference_profile(inferenceProfileIdentifier="us." + SONNET)
    assert ":210987654321:" in profile["inferenceProfileArn"]
