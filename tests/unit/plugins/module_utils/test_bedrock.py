# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/bedrock.py: identifiers, retries, service calls and every status mapping."""
from __future__ import annotations

import io
import json

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.claude_fleet.bedrock.plugins.module_utils import bedrock as bm

REGION = "us-east-1"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
OLD_SONNET = "anthropic.claude-3-7-sonnet-20250219-v1:0"
OLD_HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
US_REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def client_error(code, message="", status=400, operation="Operation"):
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def fm_arn(model_id, region):
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


class FakeBedrock:
    """In-memory bedrock + bedrock-runtime + sts stand-in; errors are real botocore ClientErrors.

    ``errors[operation]`` is a list of exceptions raised by the next calls (one per call),
    ``deny`` a set of operations that always raise AccessDeniedException.
    """

    def __init__(self):
        self.models = {
            SONNET: {"lifecycle": "ACTIVE", "types": ["INFERENCE_PROFILE"]},
            HAIKU: {"lifecycle": "ACTIVE", "types": ["INFERENCE_PROFILE"]},
            OLD_SONNET: {"lifecycle": "LEGACY", "types": ["INFERENCE_PROFILE"]},
            OLD_HAIKU: {"lifecycle": "LEGACY", "types": ["ON_DEMAND", "INFERENCE_PROFILE"]},
            "anthropic.claude-sonnet-4-20250514-v1:0": {"lifecycle": "ACTIVE", "types": ["INFERENCE_PROFILE"]},
            "amazon.nova-lite-v1:0": {"lifecycle": "ACTIVE", "types": ["ON_DEMAND", "INFERENCE_PROFILE"]},
        }
        self.profiles = {}
        for model_id in self.models:
            self.profiles[f"us.{model_id}"] = US_REGIONS
        self.profiles[f"eu.{SONNET}"] = ["eu-central-1", "eu-west-1"]
        self.app_profiles = {"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetsonnet": (SONNET, US_REGIONS)}
        self.availability = {}
        self.errors = {}
        self.deny = set()
        self.invoke_errors = {}
        self.calls = []

    def _enter(self, operation):
        self.calls.append(operation)
        if operation in self.deny:
            raise client_error("AccessDeniedException", f"User is not authorized to perform: bedrock:{operation}", 403, operation)
        queue = self.errors.get(operation)
        if queue:
            raise queue.pop(0)

    def list_foundation_models(self, **kwargs):
        self._enter("ListFoundationModels")
        provider = kwargs.get("byProvider")
        summaries = [
            {"modelId": m, "providerName": "Anthropic" if m.startswith("anthropic") else "Amazon", "modelLifecycle": {"status": v["lifecycle"]},
             "inferenceTypesSupported": v["types"], "responseStreamingSupported": True}
            for m, v in self.models.items()
        ]
        if provider:
            summaries = [s for s in summaries if s["providerName"].lower() == provider.lower()]
        return {"modelSummaries": summaries}

    def get_foundation_model(self, modelIdentifier):
        self._enter("GetFoundationModel")
        if modelIdentifier not in self.models:
            raise client_error("ResourceNotFoundException", "Could not find model", 404)
        info = self.models[modelIdentifier]
        return {"modelDetails": {"modelId": modelIdentifier, "modelArn": fm_arn(modelIdentifier, REGION), "providerName": "Anthropic",
                                 "inferenceTypesSupported": info["types"], "modelLifecycle": {"status": info["lifecycle"]},
                                 "responseStreamingSupported": True}}

    def get_foundation_model_availability(self, modelId):
        self._enter("GetFoundationModelAvailability")
        default = {"agreementAvailability": {"status": "AVAILABLE"}, "authorizationStatus": "AUTHORIZED",
                   "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}
        default.update(self.availability.get(modelId, {}))
        return dict(default, modelId=modelId, ResponseMetadata={"HTTPStatusCode": 200})

    def list_inference_profiles(self, **kwargs):
        self._enter("ListInferenceProfiles")
        return {"inferenceProfileSummaries": [{"inferenceProfileId": p} for p in self.profiles][: kwargs.get("maxResults", 1000)]}

    def get_inference_profile(self, inferenceProfileIdentifier):
        self._enter("GetInferenceProfile")
        ident = inferenceProfileIdentifier
        if ident in self.app_profiles:
            model_id, regions = self.app_profiles[ident]
            return {"inferenceProfileId": ident.rsplit("/", 1)[-1], "inferenceProfileArn": ident, "type": "APPLICATION", "status": "ACTIVE",
                    "models": [{"modelArn": fm_arn(model_id, r)} for r in regions]}
        if ident.startswith("arn:"):
            ident = ident.rsplit("/", 1)[-1]
        if ident not in self.profiles:
            raise client_error("ResourceNotFoundException", "The inference profile does not exist", 404)
        model_id = bm.split_profile_id(ident)[1]
        return {"inferenceProfileId": ident, "inferenceProfileArn": f"arn:aws:bedrock:{REGION}:123456789012:inference-profile/{ident}",
                "type": "SYSTEM_DEFINED", "status": "ACTIVE", "models": [{"modelArn": fm_arn(model_id, r)} for r in self.profiles[ident]],
                "ResponseMetadata": {}}

    def invoke_model(self, modelId, body, contentType, accept):
        self._enter("InvokeModel")
        request = json.loads(body)
        assert request["max_tokens"] == 1 and request["anthropic_version"] == bm.ANTHROPIC_VERSION
        assert contentType == accept == "application/json"
        if modelId in self.invoke_errors:
            raise self.invoke_errors[modelId]
        return {"body": io.BytesIO(json.dumps({"stop_reason": "max_tokens", "usage": {"input_tokens": 8, "output_tokens": 1}}).encode())}

    def get_caller_identity(self):
        self._enter("GetCallerIdentity")
        return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/fleet", "UserId": "AIDAEXAMPLE"}


@pytest.fixture(name="fake")
def fake_fixture():
    return FakeBedrock()


def checker_for(fake, stats=None, **kwargs):
    stats = stats or bm.CallStats()
    wrapped = RetryingBotoClientWrapper(fake, bm.counting_retry(stats, retries=4, delay=0))
    return bm.ModelAccessChecker(wrapped, region=kwargs.pop("region", REGION), stats=stats, runtime=wrapped, sts=wrapped, **kwargs), stats


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    "region, prefix",
    [("us-east-1", "us"), ("us-west-2", "us"), ("us-gov-west-1", "us-gov"), ("eu-central-1", "eu"), ("ap-northeast-1", "apac"),
     ("ca-central-1", "global"), ("sa-east-1", "global"), ("", "global")],
)
def test_geo_prefix_for_region(region, prefix):
    assert bm.geo_prefix_for_region(region) == prefix


@pytest.mark.parametrize(
    "reference, kind, model_id, prefix",
    [
        (SONNET, "foundation_model", SONNET, None),
        (f"us.{SONNET}", "system_profile", SONNET, "us"),
        (f"global.{SONNET}", "system_profile", SONNET, "global"),
        (f"us-gov.{SONNET}", "system_profile", SONNET, "us-gov"),
        (f"apac.{SONNET}", "system_profile", SONNET, "apac"),
        (fm_arn(SONNET, "us-east-1"), "foundation_model_arn", SONNET, None),
        (f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.{SONNET}", "system_profile_arn", SONNET, "eu"),
        ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123", "application_profile_arn", None, None),
        ("arn:aws:s3:::bucket/key", "invalid", None, None),
        ("", "invalid", None, None),
        ("not a model", "invalid", None, None),
    ],
)
def test_parse_reference(reference, kind, model_id, prefix):
    parsed = bm.parse_reference(reference)
    assert (parsed["kind"], parsed["model_id"], parsed["geo_prefix"]) == (kind, model_id, prefix)


def test_member_from_arn_derives_model_and_region():
    assert bm.member_from_arn(fm_arn(HAIKU, "us-east-2")) == {"model_arn": fm_arn(HAIKU, "us-east-2"), "model_id": HAIKU, "region": "us-east-2"}
    assert bm.member_from_arn("garbage")["model_id"] is None


def test_partition_for_region():
    assert [bm.partition_for_region(r) for r in ("us-east-1", "cn-north-1", "us-gov-west-1")] == ["aws", "aws-cn", "aws-us-gov"]


def test_model_family_ignores_versions_and_dates():
    assert bm.model_family(OLD_SONNET) == bm.model_family(SONNET) == "anthropic.claude-sonnet"
    assert bm.model_family(OLD_HAIKU) == bm.model_family(HAIKU) == "anthropic.claude-haiku"
    assert bm.model_family("anthropic.claude-opus-4-6-v1") == "anthropic.claude-opus"


def test_newest_active_successor_picks_newest_active_of_same_family():
    summaries = [
        {"modelId": OLD_SONNET, "modelLifecycle": {"status": "LEGACY"}},
        {"modelId": "anthropic.claude-sonnet-4-20250514-v1:0", "modelLifecycle": {"status": "ACTIVE"}},
        {"modelId": SONNET, "modelLifecycle": {"status": "ACTIVE"}},
        {"modelId": "anthropic.claude-sonnet-9-20990101-v1:0", "modelLifecycle": {"status": "LEGACY"}},
        {"modelId": HAIKU, "modelLifecycle": {"status": "ACTIVE"}},
    ]
    assert bm.newest_active_successor(OLD_SONNET, summaries) == SONNET
    assert bm.newest_active_successor("anthropic.claude-instant-v1", summaries) is None


def test_profile_to_result_snake_cases_and_derives_members():
    result = bm.profile_to_result({
        "inferenceProfileId": f"us.{HAIKU}", "inferenceProfileArn": "arn", "type": "SYSTEM_DEFINED",
        "models": [{"modelArn": fm_arn(HAIKU, r)} for r in ("us-west-2", "us-east-1")],
    })
    assert result["inference_profile_id"] == f"us.{HAIKU}"
    assert result["model_ids"] == [HAIKU]
    assert result["regions"] == ["us-east-1", "us-west-2"]
    assert result["models"][0] == {"model_arn": fm_arn(HAIKU, "us-west-2"), "model_id": HAIKU, "region": "us-west-2"}


def test_filter_models():
    summaries = [
        {"modelId": SONNET, "modelLifecycle": {"status": "ACTIVE"}, "responseStreamingSupported": True},
        {"modelId": OLD_SONNET, "modelLifecycle": {"status": "LEGACY"}, "responseStreamingSupported": True},
        {"modelId": "amazon.titan-embed-text-v2:0", "modelLifecycle": {"status": "ACTIVE"}, "responseStreamingSupported": False},
    ]
    assert [m["modelId"] for m in bm.filter_models(summaries, lifecycle_status="LEGACY")] == [OLD_SONNET]
    assert [m["modelId"] for m in bm.filter_models(summaries, streaming=False)] == ["amazon.titan-embed-text-v2:0"]
    assert [m["modelId"] for m in bm.filter_models(summaries, model_id_contains="claude", lifecycle_status="ACTIVE")] == [SONNET]


# --------------------------------------------------------------------------- retries and counting


def test_counting_retry_retries_bedrock_throttling_and_counts(fake):
    fake.errors["ListFoundationModels"] = [client_error("ThrottlingException", "Too many requests", 429) for _attempt in range(3)]
    stats = bm.CallStats()
    client = RetryingBotoClientWrapper(fake, bm.counting_retry(stats, retries=5, delay=0))
    assert bm.list_foundation_models(client, byProvider="Anthropic")
    assert stats.as_dict() == {"aws_calls": 4, "aws_retries": 3, "calls_by_operation": {"list_foundation_models": 4}}


def test_counting_retry_retries_service_unavailable(fake):
    fake.errors["GetFoundationModel"] = [client_error("ServiceUnavailableException", "", 503)]
    stats = bm.CallStats()
    client = RetryingBotoClientWrapper(fake, bm.counting_retry(stats, retries=5, delay=0))
    assert bm.get_foundation_model(client, SONNET)["modelId"] == SONNET
    assert (stats.calls, stats.retries) == (2, 1)


def test_counting_retry_does_not_retry_access_denied(fake):
    fake.deny.add("ListFoundationModels")
    stats = bm.CallStats()
    client = RetryingBotoClientWrapper(fake, bm.counting_retry(stats, retries=5, delay=0))
    with pytest.raises(bm.AnsibleBedrockError) as excinfo:
        bm.list_foundation_models(client)
    assert bm.error_code(excinfo.value) == "AccessDeniedException"
    assert (stats.calls, stats.retries) == (1, 0)


def test_counting_retry_gives_up_after_retries(fake):
    fake.errors["ListFoundationModels"] = [client_error("ThrottlingException", "", 429) for _attempt in range(10)]
    stats = bm.CallStats()
    client = RetryingBotoClientWrapper(fake, bm.counting_retry(stats, retries=3, delay=0))
    with pytest.raises(bm.AnsibleBedrockError):
        bm.list_foundation_models(client)
    assert (stats.calls, stats.retries) == (3, 2)


def test_error_code_and_message_of_wrapped_errors():
    err = bm.AnsibleBedrockError(message="Failed", exception=client_error("ValidationException", "bad id"))
    assert (bm.error_code(err), bm.error_message(err)) == ("ValidationException", "bad id")
    assert bm.error_code(bm.AnsibleBedrockError(message="x", exception=NoCredentialsError())) == "NoCredentialsError"


def test_botocore_config_disables_botocore_retries():
    config = bm.botocore_config()
    assert config == {"retries": {"mode": "standard", "total_max_attempts": 1}}
    client = boto3.client("bedrock", region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="example",
                          config=botocore.config.Config(**config))
    assert client.meta.config.retries["total_max_attempts"] == 1


# --------------------------------------------------------------------------- service calls against botocore's model (Stubber)


@pytest.fixture(name="stubbed")
def stubbed_fixture():
    client = boto3.client("bedrock", region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="example")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_list_inference_profiles_follows_next_token(stubbed):
    client, stubber = stubbed
    stubber.add_response("list_inference_profiles", {"inferenceProfileSummaries": [], "nextToken": "t1"}, {"typeEquals": "APPLICATION"})
    stubber.add_response(
        "list_inference_profiles",
        {"inferenceProfileSummaries": [{"inferenceProfileName": "p", "inferenceProfileArn": "arn:aws:bedrock:us-east-1:1:application-inference-profile/p",
                                        "inferenceProfileId": "p", "status": "ACTIVE", "type": "APPLICATION",
                                        "models": [{"modelArn": fm_arn(SONNET, "us-east-1")}]}]},
        {"typeEquals": "APPLICATION", "nextToken": "t1"},
    )
    stats = bm.CallStats()
    wrapped = RetryingBotoClientWrapper(client, bm.counting_retry(stats, delay=0))
    profiles = bm.list_inference_profiles(wrapped, type_equals="APPLICATION")
    assert [p["inferenceProfileId"] for p in profiles] == ["p"]
    assert stats.calls == 2


def test_availability_and_profile_calls_match_the_service_model(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "get_foundation_model_availability",
        {"modelId": SONNET, "agreementAvailability": {"status": "PENDING"}, "authorizationStatus": "AUTHORIZED",
         "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"},
        {"modelId": SONNET},
    )
    stubber.add_client_error("get_inference_profile", "ResourceNotFoundException", "no such profile", 404, expected_params={"inferenceProfileIdentifier": "x"})
    wrapped = RetryingBotoClientWrapper(client, bm.counting_retry(bm.CallStats(), delay=0))
    assert bm.get_foundation_model_availability(wrapped, SONNET)["agreementAvailability"]["status"] == "PENDING"
    with pytest.raises(bm.AnsibleBedrockError) as excinfo:
        bm.get_inference_profile(wrapped, "x")
    assert bm.error_code(excinfo.value) == "ResourceNotFoundException"


def test_invoke_probe_sends_a_one_token_anthropic_body():
    client = boto3.client("bedrock-runtime", region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="example")
    with Stubber(client) as stubber:
        from botocore.response import StreamingBody  # pylint: disable=import-outside-toplevel
        payload = json.dumps({"stop_reason": "max_tokens", "usage": {"output_tokens": 1}}).encode()
        stubber.add_response("invoke_model", {"body": StreamingBody(io.BytesIO(payload), len(payload)), "contentType": "application/json"})
        wrapped = RetryingBotoClientWrapper(client, bm.counting_retry(bm.CallStats(), delay=0))
        assert bm.invoke_probe(wrapped, f"us.{SONNET}") == {"stop_reason": "max_tokens", "usage": {"output_tokens": 1}, "model": None}


# --------------------------------------------------------------------------- access checker: statuses and remedies


def run(fake, references, **kwargs):
    check_identity = kwargs.pop("check_identity", False)
    names = kwargs.pop("names", None)
    checker, stats = checker_for(fake, **kwargs)
    result = checker.run(references, names, check_identity=check_identity)
    return result, stats


def only(result):
    assert len(result["references"]) == 1
    return result["references"][0]


def test_all_access_granted(fake):
    result, stats = run(fake, [f"us.{SONNET}", f"us.{HAIKU}"], invoke=True, check_identity=True)
    assert result["usable"] is True
    assert result["failed_references"] == [] and result["remedies"] == []
    assert [r["status"] for r in result["references"]] == ["ok", "ok"]
    assert result["references"][0]["profile"]["regions"] == US_REGIONS
    assert result["references"][0]["invoke"]["ok"] is True
    assert result["caller_identity"]["account"] == "123456789012"
    # identity + list permission + 2 x (profile, model, availability, invoke)
    assert stats.calls == 2 + 2 * 4 and stats.retries == 0


def test_shared_models_are_looked_up_once(fake):
    result, stats = run(fake, [f"us.{SONNET}", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetsonnet"])
    assert result["usable"]
    assert stats.by_operation["get_foundation_model_availability"] == 1
    assert stats.by_operation["get_foundation_model"] == 1


def test_application_profile_resolves_to_its_models(fake):
    ref = only(run(fake, ["arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetsonnet"])[0])
    assert ref["kind"] == "application_profile_arn"
    assert ref["profile"]["model_ids"] == [SONNET]
    assert [m["model_id"] for m in ref["foundation_models"]] == [SONNET]


def test_access_denied_names_action_model_and_region(fake):
    fake.deny.add("GetFoundationModelAvailability")
    result, _stats = run(fake, [f"us.{SONNET}"], names={f"us.{SONNET}": ["primary"]})
    ref = only(result)
    assert ref["status"] == "access_denied" and not result["usable"]
    assert "bedrock:GetFoundationModelAvailability" in ref["remedy"]
    assert SONNET in ref["remedy"] and REGION in ref["remedy"]
    assert result["remedies"][0].startswith(f"primary (us.{SONNET}): ")


def test_invoke_access_denied_names_invoke_action_and_resources(fake):
    fake.invoke_errors[f"us.{HAIKU}"] = client_error("AccessDeniedException", "not authorized to perform bedrock:InvokeModel", 403)
    result, _stats = run(fake, [f"us.{HAIKU}"], invoke=True)
    ref = only(result)
    assert ref["status"] == "access_denied"
    assert "bedrock:InvokeModel" in ref["remedy"]
    assert f"inference-profile/us.{HAIKU}" in ref["remedy"] and f"foundation-model/{HAIKU}" in ref["remedy"]
    assert ref["invoke"] == {"ok": False, "error_code": "AccessDeniedException"}


def test_agreement_pending(fake):
    fake.availability[SONNET] = {"agreementAvailability": {"status": "PENDING"}}
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert ref["status"] == "agreement_pending" and not ref["usable"]
    assert "PENDING" in ref["remedy"]


def test_agreement_not_available(fake):
    fake.availability[SONNET] = {"agreementAvailability": {"status": "NOT_AVAILABLE"}}
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert ref["status"] == "agreement_required"
    assert "aws-marketplace:Subscribe" in ref["remedy"]


def test_agreement_error_carries_message(fake):
    fake.availability[SONNET] = {"agreementAvailability": {"status": "ERROR", "errorMessage": "card declined"}}
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert ref["status"] == "agreement_required" and "card declined" in ref["remedy"]


def test_use_case_form_from_entitlement(fake):
    fake.availability[HAIKU] = {"entitlementAvailability": "NOT_AVAILABLE"}
    ref = only(run(fake, [f"us.{HAIKU}"])[0])
    assert ref["status"] == "use_case_form_required"
    assert "use-case form" in ref["remedy"] and "PutUseCaseForModelAccess" in ref["remedy"]


def test_use_case_form_from_invoke_error(fake):
    fake.invoke_errors[f"us.{HAIKU}"] = client_error(
        "ResourceNotFoundException", "Model use case details have not been submitted for this account.", 404)
    ref = only(run(fake, [f"us.{HAIKU}"], invoke=True)[0])
    assert ref["status"] == "use_case_form_required"


def test_not_authorized(fake):
    fake.availability[SONNET] = {"authorizationStatus": "NOT_AUTHORIZED"}
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert ref["status"] == "not_authorized"
    assert "bedrock:InvokeModel" in ref["remedy"] and f"foundation-model/{SONNET}" in ref["remedy"]


def test_region_unavailable_suggests_profile(fake):
    fake.availability["amazon.nova-lite-v1:0"] = {"regionAvailability": "NOT_AVAILABLE"}
    ref = only(run(fake, ["amazon.nova-lite-v1:0"])[0])
    assert ref["status"] == "region_unavailable" and "us.amazon.nova-lite-v1:0" in ref["remedy"]


def test_on_demand_id_needing_a_profile_from_model_metadata(fake):
    ref = only(run(fake, [SONNET], region="eu-west-1")[0])
    assert ref["status"] == "needs_inference_profile"
    assert f"use eu.{SONNET} instead" in ref["remedy"]


def test_on_demand_id_needing_a_profile_from_invoke_validation_error(fake):
    fake.models[SONNET]["types"] = ["ON_DEMAND"]
    fake.invoke_errors[SONNET] = client_error(
        "ValidationException",
        "Invocation of model ID anthropic.claude-sonnet-4-5 with on-demand throughput isn't supported. Retry your request with the ID or ARN "
        "of an inference profile that contains this model.")
    ref = only(run(fake, [SONNET], invoke=True, region="ap-northeast-1")[0])
    assert ref["status"] == "needs_inference_profile"
    assert f"use apac.{SONNET} instead" in ref["remedy"]


def test_legacy_model_names_active_successor(fake):
    ref = only(run(fake, [f"us.{OLD_SONNET}"])[0])
    assert ref["status"] == "legacy" and not ref["usable"]
    assert f"us.{SONNET}" in ref["remedy"]
    assert ref["foundation_models"][0]["successor"] == SONNET


def test_legacy_on_demand_model_gets_a_profile_for_a_profile_only_successor(fake):
    ref = only(run(fake, [OLD_HAIKU])[0])
    assert ref["status"] == "legacy"
    assert f"(successor): us.{HAIKU}." in ref["remedy"]


def test_legacy_model_allowed_is_a_warning(fake):
    result, _stats = run(fake, [OLD_HAIKU], allow_legacy=True)
    ref = only(result)
    assert ref["status"] == "legacy" and ref["usable"] and result["usable"]
    assert ref["remedies"] == [] and HAIKU in ref["warnings"][0]


def test_legacy_without_successor(fake):
    fake.models["anthropic.claude-instant-v1"] = {"lifecycle": "LEGACY", "types": ["ON_DEMAND"]}
    ref = only(run(fake, ["anthropic.claude-instant-v1"])[0])
    assert ref["status"] == "legacy" and "no ACTIVE model of the same family" in ref["remedy"]


def test_profile_not_found_suggests_region_prefix(fake):
    ref = only(run(fake, [f"eu.{HAIKU}"])[0])
    assert ref["status"] == "not_found"
    assert f"us.{HAIKU}" in ref["remedy"]


def test_region_not_in_profile(fake):
    ref = only(run(fake, [f"eu.{SONNET}"])[0])
    assert ref["status"] == "region_not_in_profile"
    assert "eu-central-1" in ref["remedy"] and REGION in ref["remedy"]


def test_profile_arn_of_other_region(fake):
    ref = only(run(fake, [f"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{SONNET}"])[0])
    assert ref["status"] == "region_not_in_profile"


def test_unknown_foundation_model(fake):
    ref = only(run(fake, ["anthropic.claude-nonexistent-v1:0"])[0])
    assert ref["status"] == "not_found" and "foundation_model_info" in ref["remedy"]


def test_get_inference_profile_denied(fake):
    fake.deny.add("GetInferenceProfile")
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert ref["status"] == "access_denied" and "bedrock:GetInferenceProfile" in ref["remedy"]
    assert f"inference-profile/us.{SONNET}" in ref["remedy"]


def test_invalid_reference(fake):
    result, stats = run(fake, ["s3://bucket"])
    assert only(result)["status"] == "invalid_reference"
    assert stats.by_operation == {"list_inference_profiles": 1}


def test_list_inference_profiles_denied_is_a_global_failure(fake):
    fake.deny.add("ListInferenceProfiles")
    result, _stats = run(fake, [f"us.{SONNET}"])
    assert result["usable"] is False
    assert result["failed_references"] == []
    assert result["checks"][0]["check"] == "bedrock:ListInferenceProfiles"
    assert "bedrock:ListInferenceProfiles" in result["remedies"][0]


def test_throttling_is_retried_and_reported(fake):
    fake.errors["ListInferenceProfiles"] = [client_error("ThrottlingException", "Too many requests", 429)]
    fake.errors["GetInferenceProfile"] = [client_error("ThrottlingException", "Too many requests", 429) for _attempt in range(2)]
    result, stats = run(fake, [f"us.{SONNET}"])
    assert result["usable"] is True
    assert stats.retries == 3
    assert stats.calls == 4 + 3  # list, profile, model, availability + 3 retries


def test_throttling_that_never_ends_is_a_remedy(fake):
    fake.errors["GetFoundationModelAvailability"] = [client_error("ThrottlingException", "Too many requests", 429) for _attempt in range(10)]
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert ref["status"] == "throttled" and "quota" in ref["remedy"]


def test_expired_credentials_stop_early(fake):
    fake.errors["GetCallerIdentity"] = [client_error("ExpiredToken", "The security token included in the request is expired", 403)]
    result, stats = run(fake, [f"us.{SONNET}", f"us.{HAIKU}"], check_identity=True)
    assert result["usable"] is False
    assert result["failed_references"] == [f"us.{SONNET}", f"us.{HAIKU}"]
    assert result["checks"][0]["status"] == "credentials_invalid"
    assert stats.calls == 1


def test_missing_credentials_are_reported_without_values(fake):
    fake.errors["ListInferenceProfiles"] = [NoCredentialsError()]
    result, _stats = run(fake, [f"us.{SONNET}"])
    assert result["checks"][0]["status"] == "credentials_invalid"
    assert not result["usable"]


def test_several_problems_give_all_remedies_most_severe_first(fake):
    fake.availability[SONNET] = {"agreementAvailability": {"status": "PENDING"}, "authorizationStatus": "NOT_AUTHORIZED"}
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert ref["status"] == "not_authorized"
    assert [p["status"] for p in ref["problems"]] == ["not_authorized", "agreement_pending"]
    assert len(ref["remedies"]) == 2


def test_denied_model_availability_combination(fake):
    fake.availability[SONNET] = {"agreementAvailability": {"status": "NOT_AVAILABLE"}, "authorizationStatus": "NOT_AUTHORIZED"}
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert [p["status"] for p in ref["problems"]] == ["not_authorized", "agreement_required"]


def test_use_case_form_hides_its_side_effects(fake):
    message = "Model use case details have not been submitted for this account."
    fake.availability[SONNET] = {"agreementAvailability": {"status": "ERROR", "errorMessage": message},
                                 "authorizationStatus": "NOT_AUTHORIZED", "entitlementAvailability": "NOT_AVAILABLE"}
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert [p["status"] for p in ref["problems"]] == ["use_case_form_required"]


def test_region_unavailable_hides_its_side_effects(fake):
    fake.availability[SONNET] = {"agreementAvailability": {"status": "NOT_AVAILABLE"}, "entitlementAvailability": "NOT_AVAILABLE",
                                 "regionAvailability": "NOT_AVAILABLE"}
    ref = only(run(fake, [f"us.{SONNET}"])[0])
    assert [p["status"] for p in ref["problems"]] == ["region_unavailable"]


@pytest.mark.parametrize(
    "code, message, status",
    [
        ("AccessDeniedException", "Model access is denied because the AWS Marketplace subscription for this model is still being processed.",
         "agreement_pending"),
        ("AccessDeniedException", "You don't have access to the model with the specified model ID.", "not_authorized"),
        ("AccessDeniedException", "Model use case details have not been submitted for this account.", "use_case_form_required"),
        ("ResourceNotFoundException", "Model not found", "not_found"),
        ("ValidationException", "The provided model identifier is invalid.", "invalid_reference"),
        ("ThrottlingException", "Too many requests", "throttled"),
        ("InternalServerException", "boom", "throttled"),
        ("SomethingElse", "odd", "error"),
    ],
)
def test_invoke_error_mapping(fake, code, message, status):
    fake.invoke_errors[f"us.{HAIKU}"] = client_error(code, message)
    ref = only(run(fake, [f"us.{HAIKU}"], invoke=True)[0])
    assert ref["status"] == status and not ref["usable"]
    assert ref["invoke"]["error_code"] == code


def test_invoke_is_skipped_when_already_unusable(fake):
    fake.availability[SONNET] = {"agreementAvailability": {"status": "PENDING"}}
    result, _stats = run(fake, [f"us.{SONNET}"], invoke=True)
    assert only(result)["invoke"] is None
    assert "InvokeModel" not in fake.calls


def test_no_list_permission_check_when_disabled(fake):
    _result, stats = run(fake, [f"us.{SONNET}"], check_list_permission=False)
    assert "list_inference_profiles" not in stats.by_operation


# --- the access modules' input (model_access_info, mantle_access_info) ---------------------------------


def test_collect_references_keeps_or_drops_an_empty_reference():
    # model_access_info checks what it is given (an empty reference fails its check); mantle_access_info drops it.
    assert bm.collect_references(["", " x "], {"primary": None, "opus": ""}) == (["", "x"], {"": [], "x": []})
    assert bm.collect_references(["", " x "], {"primary": " x"}, keep_empty=False) == (["x"], {"x": ["primary"]})


class _Module:
    def __init__(self, **params):
        self.params = params
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


def test_module_references_fails_when_nothing_is_left_to_check():
    module = _Module(references=[""], models={"primary": ""})
    with pytest.raises(SystemExit):
        bm.module_references(module, keep_empty=False)
    assert module.failed == {"msg": "No model reference to check: references and models are empty."}
    assert bm.module_references(_Module(references=None, models={"haiku": HAIKU})) == ([HAIKU], {HAIKU: ["haiku"]})
