# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's model vocabulary (module_utils/bedrock.py): every pin form Claude Code accepts,
the [1m] suffix, the geo prefixes the CLI knows, and the generation order of both id styles."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import bedrock as bm

ACCOUNT = "123456789012"
APP = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/a1b2c3d4e5f6"


def pin(value, region="us-east-1", option="settings_model"):
    return bm.pin_error(option, value, region, "settings_aws_region")


# --- forms ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("reference, kind, identifier, model_id, prefix, one_m", [
    ("anthropic.claude-opus-5-5", "foundation_model", "anthropic.claude-opus-5-5", "anthropic.claude-opus-5-5", None, False),
    ("us.anthropic.claude-opus-5-5", "system_profile", "us.anthropic.claude-opus-5-5", "anthropic.claude-opus-5-5", "us", False),
    ("us.anthropic.claude-opus-5-5[1m]", "system_profile", "us.anthropic.claude-opus-5-5", "anthropic.claude-opus-5-5", "us", True),
    ("global.anthropic.claude-sonnet-5-5[1M]", "system_profile", "global.anthropic.claude-sonnet-5-5", "anthropic.claude-sonnet-5-5",
     "global", True),
    ("jp.anthropic.claude-haiku-5-5", "system_profile", "jp.anthropic.claude-haiku-5-5", "anthropic.claude-haiku-5-5", "jp", False),
    ("au.anthropic.claude-fable-5-2", "system_profile", "au.anthropic.claude-fable-5-2", "anthropic.claude-fable-5-2", "au", False),
    ("us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", "system_profile", "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0",
     "anthropic.claude-sonnet-4-5-20250929-v1:0", "us-gov", False),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0[1m]", "foundation_model", "anthropic.claude-sonnet-4-5-20250929-v1:0",
     "anthropic.claude-sonnet-4-5-20250929-v1:0", None, True),
    (APP, "application_profile_arn", APP, None, None, False),
    (APP + "[1m]", "application_profile_arn", APP, None, None, True),
    (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.anthropic.claude-opus-5", "system_profile_arn",
     f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.anthropic.claude-opus-5", "anthropic.claude-opus-5", "us", False),
    ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-mythos-5", "foundation_model_arn", "anthropic.claude-mythos-5",
     "anthropic.claude-mythos-5", None, False),
    ("claude-best", "invalid", "claude-best", None, None, False),
    ("ca.anthropic.claude-opus-5-5", "foundation_model", "ca.anthropic.claude-opus-5-5", "ca.anthropic.claude-opus-5-5", None, False),
    ("us.anthropic", "invalid", "us.anthropic", None, None, False),
    ("arn:aws:bedrock:us-east-1:12345:inference-profile/x", "invalid", "arn:aws:bedrock:us-east-1:12345:inference-profile/x", None, None, False),
    ("[1m]", "invalid", "", None, None, True),
])
def test_parse_reference_reads_every_form(reference, kind, identifier, model_id, prefix, one_m):
    parsed = bm.parse_reference(reference)
    assert (parsed["kind"], parsed["identifier"], parsed["model_id"], parsed["geo_prefix"], parsed["context_1m"]) == (
        kind, identifier, model_id, prefix, one_m)
    assert parsed["reference"] == reference


def test_geo_prefixes_are_the_ones_the_cli_knows():
    # Claude Code 2.1.332 (strings of the binary): ["us","eu","apac","jp","au","us-gov","global"]; no "ca.".
    assert set(bm.GEO_PREFIXES) == {"us", "eu", "apac", "jp", "au", "us-gov", "global"}
    assert set(bm.GEO_SOURCE_REGIONS) == set(bm.GEO_PREFIXES)
    # Longest first, so us-gov. is not read as us. + "gov.anthropic...".
    assert bm.split_profile_id("us-gov.anthropic.claude-opus-5") == ("us-gov", "anthropic.claude-opus-5")


@pytest.mark.parametrize('prefix, region, allowed', [
    ('us', 'us-east-1', True), ('us', 'us-west-2', True), ('us', 'eu-west-1', False), ('us', 'us-gov-west-1', False),
    ('eu', 'eu-central-1', True), ('eu', 'us-east-1', False), ('apac', 'ap-northeast-1', True), ('apac', 'us-east-1', False),
    ('jp', 'ap-northeast-3', True), ('au', 'ap-southeast-2', True), ('us-gov', 'us-gov-east-1', True), ('us-gov', 'us-east-1', False),
    ('global', 'eu-west-1', True), ('global', 'us-gov-west-1', False),
])
def test_geography_prefix_against_region(prefix, region, allowed):
    assert bool(bm.GEO_SOURCE_REGIONS[prefix].match(region)) == allowed


# --- pins ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, region", [
    ("anthropic.claude-opus-5-5", "us-east-1"),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "us-east-1"),
    ("us.anthropic.claude-opus-5-5", "us-west-2"),
    ("us.anthropic.claude-opus-5-5[1m]", "us-east-1"),
    ("us.anthropic.claude-opus-4-6-v1", "us-east-1"),
    ("us.anthropic.claude-sonnet-5-5", "ca-central-1"),
    ("eu.anthropic.claude-haiku-5-5", "eu-central-1"),
    ("apac.anthropic.claude-sonnet-5", "ap-south-1"),
    ("jp.anthropic.claude-sonnet-5-5", "ap-northeast-1"),
    ("jp.anthropic.claude-sonnet-5-5", "ap-northeast-3"),
    ("au.anthropic.claude-opus-5-5", "ap-southeast-2"),
    ("us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", "us-gov-west-1"),
    ("global.anthropic.claude-fable-5-1", "eu-west-1"),
    ("global.anthropic.claude-mythos-5", "sa-east-1"),
    ("anthropic.claude-3-sonnet-20240229-v1:0:28k", "us-east-1"),
    (APP, "us-east-1"),
    (APP + "[1m]", "us-east-1"),
    (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.anthropic.claude-sonnet-5-5", "us-east-1"),
    ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-5-5", "us-east-1"),
    (f"arn:aws-us-gov:bedrock:us-gov-west-1:{ACCOUNT}:inference-profile/us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0", "us-gov-west-1"),
])
def test_pins_claude_code_accepts_pass(value, region):
    assert pin(value, region) is None


@pytest.mark.parametrize("value", [
    "gpt-4", "claude-sonnet-4-5", "sonnet", "us.anthropic", "xx.anthropic.claude-x", "ca.anthropic.claude-opus-5-5",
    "anthropic.claude-sonnet 4", "arn:aws:s3:::bucket", "arn:aws:bedrock:us-east-1:12345:inference-profile/x",
    " us.anthropic.claude-sonnet-5-5", "us.anthropic.claude-sonnet-5-5\n", "amazon.nova-lite-v1:0", "us.anthropic.claude-opus-5-5[2m]",
    "us.anthropic.claude-opus-5-5[1m][1m]", "[1m]",
])
def test_other_strings_are_not_pins(value):
    assert pin(value) == f"settings_model {bm.json.dumps(value)} is neither {bm.PIN_FORMS}."


@pytest.mark.parametrize("value, region, words", [
    ("eu.anthropic.claude-haiku-5-5", "us-east-1", "is a eu. cross-region inference profile, which settings_aws_region us-east-1 cannot call"),
    ("us.anthropic.claude-opus-5-5", "us-gov-west-1", "is a us. cross-region inference profile"),
    ("global.anthropic.claude-opus-5-5", "us-gov-west-1", "is a global. cross-region inference profile"),
    ("apac.anthropic.claude-sonnet-5", "eu-west-1", "is a apac. cross-region"),
    ("jp.anthropic.claude-sonnet-5-5", "ap-south-1", "is a jp. cross-region"),
    ("arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc", "us-east-1",
     "is an inference profile of region eu-west-1 but settings_aws_region is us-east-1."),
    ("arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-opus-5", "us-east-1", "is a foundation model ARN of region eu-west-1"),
])
def test_pins_of_another_region_fail_naming_both(value, region, words):
    assert words in pin(value, region)


def test_pin_errors_skip_unset_pins_and_name_each_bad_one():
    pins = [
        {"option": "settings_model", "value": "", "region": "us-east-1", "region_option": "settings_aws_region"},
        {"option": "settings_opus_model", "value": "us.anthropic.claude-opus-5-5[1m]", "region": "us-east-1", "region_option": "settings_aws_region"},
        {"option": "settings_haiku_model", "value": "eu.anthropic.claude-haiku-5-5", "region": "us-east-1",
         "region_option": "settings_small_fast_model_region"},
        {"option": "settings_fable_model", "value": "claude-fable", "region": "us-east-1", "region_option": "settings_aws_region"},
    ]
    errors = bm.pin_errors(pins)
    assert len(errors) == 2
    assert errors[0].startswith('settings_haiku_model "eu.anthropic.claude-haiku-5-5" is a eu.') and "settings_small_fast_model_region" in errors[0]
    assert errors[1].startswith('settings_fable_model "claude-fable" is neither')


# hypothesis: any known prefix + a model id, with or without the suffixes, parses back to its parts.
_names = st.from_regex(r"\Aclaude-(opus|sonnet|haiku|fable|mythos)(-[1-9]){1,2}\Z", fullmatch=True)
_suffixes = st.sampled_from(["", "-20250929-v1:0", "-v1", "-20251101-v2:0"])


@settings(max_examples=200, deadline=None, database=None)
@given(prefix=st.sampled_from(bm.GEO_PREFIXES), name=_names, suffix=_suffixes, one_m=st.booleans())
def test_every_profile_form_round_trips(prefix, name, suffix, one_m):
    model_id = f"anthropic.{name}{suffix}"
    reference = f"{prefix}.{model_id}" + ("[1m]" if one_m else "")
    parsed = bm.parse_reference(reference)
    assert (parsed["kind"], parsed["geo_prefix"], parsed["model_id"], parsed["context_1m"]) == ("system_profile", prefix, model_id, one_m)
    assert parsed["identifier"] == f"{prefix}.{model_id}"
    assert "[1m]" not in bm.profile_arn(parsed["identifier"], "us-east-1", ACCOUNT)


# --- generations ----------------------------------------------------------------------------------

OPUS_ORDER = [
    "anthropic.claude-opus-4-20250514-v1:0",
    "anthropic.claude-opus-4-1-20250805-v1:0",
    "anthropic.claude-opus-4-5-20251101-v1:0",
    "anthropic.claude-opus-4-6-v1",
    "anthropic.claude-opus-4-7",
    "anthropic.claude-opus-4-8",
    "anthropic.claude-opus-5",
    "anthropic.claude-opus-5-5",
]


def test_generations_order_across_both_id_styles():
    assert sorted(reversed(OPUS_ORDER), key=bm.model_generation) == OPUS_ORDER
    sonnets = ["anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic.claude-3-7-sonnet-20250219-v1:0",
               "anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-6",
               "anthropic.claude-sonnet-5", "anthropic.claude-sonnet-5-5"]
    assert sorted(reversed(sonnets), key=bm.model_generation) == sonnets
    assert sorted(["anthropic.claude-fable-5-2", "anthropic.claude-fable-5", "anthropic.claude-fable-5-1"], key=bm.model_generation) == [
        "anthropic.claude-fable-5", "anthropic.claude-fable-5-1", "anthropic.claude-fable-5-2"]


@settings(max_examples=200, deadline=None, database=None)
@given(st.permutations(OPUS_ORDER))
def test_generation_order_does_not_depend_on_the_input_order(order):
    assert sorted(order, key=bm.model_generation) == OPUS_ORDER


@settings(max_examples=200, deadline=None, database=None)
@given(old=st.tuples(st.integers(1, 9), st.integers(0, 9)), new=st.tuples(st.integers(1, 9), st.integers(0, 9)),
       old_dated=st.booleans(), new_dated=st.booleans())
def test_a_newer_generation_outranks_any_date(old, new, old_dated, new_dated):
    def model(gen, dated):
        return "anthropic.claude-opus-%d-%d%s" % (gen[0], gen[1], "-20991231-v9:0" if dated else "")
    if old < new:
        assert bm.model_generation(model(old, old_dated)) < bm.model_generation(model(new, new_dated))


def test_families_span_both_id_styles():
    families = {bm.model_family(m) for m in OPUS_ORDER + ["anthropic.claude-opus-5-5[1m]"]}
    assert families == {"anthropic.claude-opus"}
    assert bm.model_family("anthropic.claude-sonnet-5-5") == bm.model_family("anthropic.claude-3-7-sonnet-20250219-v1:0")
    assert bm.model_family("anthropic.claude-fable-5-1") != bm.model_family("anthropic.claude-mythos-5")


def summaries(*pairs):
    return [{"modelId": m, "modelLifecycle": {"status": status}} for m, status in pairs]


def test_successor_of_a_legacy_dated_model_is_the_newest_unsuffixed_one():
    catalog = summaries(*[(m, "LEGACY" if "4-6" in m or "2025" in m else "ACTIVE") for m in OPUS_ORDER],
                        ("anthropic.claude-sonnet-5-5", "ACTIVE"))
    assert bm.newest_active_successor("anthropic.claude-opus-4-6-v1", catalog) == "anthropic.claude-opus-5-5"
    assert bm.newest_active_successor("anthropic.claude-opus-4-5-20251101-v1:0", catalog) == "anthropic.claude-opus-5-5"
    # A LEGACY newest is never proposed; the next ACTIVE one is.
    catalog = summaries(("anthropic.claude-opus-4-6-v1", "LEGACY"), ("anthropic.claude-opus-4-8", "ACTIVE"),
                        ("anthropic.claude-opus-5", "ACTIVE"), ("anthropic.claude-opus-5-5", "LEGACY"))
    assert bm.newest_active_successor("anthropic.claude-opus-4-6-v1", catalog) == "anthropic.claude-opus-5"


# --- model policy ---------------------------------------------------------------------------------

def test_model_policy_accepts_aliases_and_checks_bedrock_references():
    errors = bm.model_policy_errors(["opus", "sonnet-5", "claude-opus-5-5", "us.anthropic.claude-haiku-5-5", "claude-opus-5-5[1m]"], True,
                                    {"claude-opus-5-5": APP}, "us-east-1", "settings_aws_region")
    assert errors == []
    assert bm.model_policy_references(["opus", "us.anthropic.claude-haiku-5-5"], {"claude-opus-5-5": APP}) == {
        "availableModels[1]": "us.anthropic.claude-haiku-5-5", "modelOverrides[claude-opus-5-5]": APP}


@pytest.mark.parametrize("available, enforce, overrides, words", [
    (["eu.anthropic.claude-haiku-5-5"], False, {}, 'settings_available_models[0] "eu.anthropic.claude-haiku-5-5" is a eu. cross-region'),
    (["opus", "Bad Name!"], False, {}, 'settings_available_models[1] "Bad Name!" is neither a model alias'),
    (["opus", ""], False, {}, "settings_available_models[1] must be a non-empty string"),
    ([], True, {}, "settings_enforce_available_models has no effect without settings_available_models"),
    ([], "yes", {}, "settings_enforce_available_models must be true or false"),
    ([], False, {"claude-opus-5-5": "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc"},
     "settings_model_overrides[claude-opus-5-5] \"arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc\" is an inference profile"
     " of region eu-west-1"),
    ([], False, {"us.anthropic.claude-opus-5-5": APP}, 'settings_model_overrides key "us.anthropic.claude-opus-5-5" is not an Anthropic model id'),
    ([], False, {"claude-opus-5-5": ""}, "settings_model_overrides[claude-opus-5-5] is empty."),
    ("opus", False, {}, "settings_available_models must be a list"),
])
def test_model_policy_errors_name_the_option_and_entry(available, enforce, overrides, words):
    errors = bm.model_policy_errors(available, enforce, overrides, "us-east-1", "settings_aws_region")
    assert any(words in e for e in errors), errors
