"""The shipped configuration, its documentation and its schema agree with the config model
(rulebook §9.8: keys read from the documented section; the example config passes its own
start-up check)."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from heron.config import HeronConfig, json_schema, load_config
from heron.errors import InputError

REPO = Path(__file__).resolve().parents[1]
README = REPO / "config" / "README.md"
SHIPPED = REPO / "config" / "config.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def field_paths(model: BaseModel, prefix: str = "") -> list[str]:
    """Dotted paths of every leaf setting of a config model (sections are walked into)."""
    out = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out.extend(field_paths(value, f"{prefix}{name}."))
        else:
            out.append(f"{prefix}{name}")
    return out


def test_field_paths_walk_every_section():
    paths = field_paths(HeronConfig())
    assert "prefilter.max_af_any" in paths
    assert "frequency.recessive.hemizygotes" in paths
    assert "de_novo.require_parent_gq" in paths
    assert len(paths) == len(set(paths))


def test_every_key_is_documented_under_its_own_path():
    if not README.exists():
        pytest.skip("config/README.md is not written yet")
    text = README.read_text()
    missing = [p for p in field_paths(HeronConfig()) if f"`{p}`" not in text]
    assert not missing, f"config/README.md does not document {missing}"


def test_documentation_names_no_unknown_keys():
    if not README.exists():
        pytest.skip("config/README.md is not written yet")
    documented = re.findall(r"^\| `([^`]+)` \|", README.read_text(), flags=re.M)
    assert documented, "config/README.md has no key table"
    unknown = sorted(set(documented) - set(field_paths(HeronConfig())))
    assert not unknown, f"config/README.md documents keys the model does not have: {unknown}"


def test_shipped_config_loads():
    config = load_config(SHIPPED, base=REPO)
    assert isinstance(config, HeronConfig)
    raw = yaml.safe_load(SHIPPED.read_text())
    # every key the file sets is read back from the section it is written in
    for section, values in raw.items():
        if isinstance(values, dict):
            for key, value in values.items():
                if not isinstance(value, (str, list, dict)):  # paths are resolved
                    assert getattr(getattr(config, section), key) == value


def test_shipped_config_passes_the_workflow_schema():
    schema = yaml.safe_load(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(SHIPPED.read_text()))]
    assert not errors


def test_committed_schema_is_the_generated_one():
    generated = yaml.safe_dump(json_schema(), sort_keys=False, allow_unicode=True)
    assert SCHEMA.read_text() == generated, \
        "workflow/schemas/config.schema.yaml is stale: regenerate it with `heron config-schema`"


def test_schema_refuses_a_key_in_the_wrong_section():
    # a threshold written under another section must fail the start-up check, not be ignored
    schema = yaml.safe_load(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors({"prefilter": {"min_depth": 5}}))
    assert not list(validator.iter_errors({"call_qc": {"min_depth": 5}}))


@pytest.mark.parametrize("text, key", [
    ("prefilter:\n  max_af_anyy: 0.02\n", "prefilter.max_af_anyy"),
    ("call_qc:\n  min_depth: -3\n", "call_qc.min_depth"),
    ("de_novo:\n  min_depth: 5\n  max_parent_alt_reads: many\n", "de_novo.max_parent_alt_reads"),
])
def test_bad_config_names_the_key(tmp_path, text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_config(path, base=tmp_path)
    assert key in str(err.value)
    assert str(path) in str(err.value)
