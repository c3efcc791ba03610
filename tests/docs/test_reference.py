"""docs/*.md are generated from the code: committed pages equal what `aidc docs generate`
writes, a stale page fails with the command that fixes it, every spec and config field carries
a description, and the pages cover every component, stack-file key and policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from infra.config.base import Spec
from infra.docs.generate import (
    DOCS_DIR,
    REGENERATE,
    component_classes,
    default_text,
    render_all,
    spec_models,
    stale_pages,
    type_text,
    undescribed_fields,
)
from tests.helpers import REPO, run_aidc


def test_committed_pages_are_current() -> None:
    """The pages in docs/ are exactly what the code renders now."""
    stale = stale_pages(DOCS_DIR)
    assert stale == [], f"stale docs: {stale}; run `.venv/bin/{REGENERATE}` and commit docs/"


def test_rendering_is_deterministic() -> None:
    assert render_all() == render_all()


def test_a_stale_page_fails_the_check(tmp_path: Path) -> None:
    """`aidc docs generate --check` exits 1 naming the stale page and the command; after
    `aidc docs generate` it exits 0."""
    assert run_aidc("docs", "generate", "--output-dir", tmp_path).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(render_all())
    page = tmp_path / "config.md"
    page.write_text(page.read_text().replace("aidc:network", "aidc:netwrok", 1))
    assert stale_pages(tmp_path) == ["config.md"]
    result = run_aidc("docs", "generate", "--check", "--output-dir", tmp_path)
    assert result.returncode == 1
    assert "config.md" in result.stderr and REGENERATE in result.stderr
    (tmp_path / "policies.md").unlink()
    assert stale_pages(tmp_path) == ["config.md", "policies.md"]
    assert run_aidc("docs", "generate", "--output-dir", tmp_path).returncode == 0
    assert run_aidc("docs", "generate", "--check", "--output-dir", tmp_path).returncode == 0


def test_rejects_an_output_dir_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "docs"
    target.write_text("x")
    result = run_aidc("docs", "generate", "--output-dir", target)
    assert result.returncode == 2 and "not a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_spec_and_config_field_is_described() -> None:
    """Each field of every model in infra/config and components has a description."""
    models = spec_models("infra.config") + spec_models("components")
    assert len(models) > 30
    assert undescribed_fields(models) == []


def test_an_undescribed_field_is_found() -> None:
    class Probe(Spec):
        described: int = Field(1, description="Has one.")
        bare: int = 2

    assert undescribed_fields([Probe]) == [f"{Probe.__module__}.{Probe.__qualname__}.bare"]


def test_pages_cover_components_keys_and_policies() -> None:
    from infra.check.plan_checks import registered
    from infra.config.platform import PlatformConfig
    from policies.metadata import POLICIES

    pages = render_all()
    classes = component_classes()
    assert {c.__name__ for c in classes} >= {"GkeCluster", "GpuNodePool", "KmsKeys", "DataBuckets"}
    for cls in classes:
        assert f"## {cls.__name__}\n" in pages["components.md"]
    for name in PlatformConfig.model_fields:
        if name not in ("project", "region"):
            assert f"| `aidc:{name}` |" in pages["config.md"]
    assert "| `gcp:project` |" in pages["config.md"]
    for meta in POLICIES.values():
        assert f"## {meta.name}\n" in pages["policies.md"]
        assert meta.remediation.split()[0] in pages["policies.md"]
    for check in registered():
        assert f"## {check.name}\n" in pages["policies.md"]


def test_secrets_and_defaults_read_as_a_user_writes_them() -> None:
    """A token field reads `secret string`; a literal lists its choices; a default built from
    a model points at the model's section."""
    from infra.config.monitoring import MonitoringConfig, PagerDutyChannel

    assert type_text(PagerDutyChannel.model_fields["service_key"].annotation) == "secret string"
    assert type_text(MonitoringConfig.model_fields["mode"].annotation) == \
        '"managed" | "self-managed"'
    assert default_text(MonitoringConfig.model_fields["thresholds"]) == "see Thresholds"
    assert default_text(PagerDutyChannel.model_fields["service_key"]) == "required"


def test_readme_links_the_references() -> None:
    readme = (REPO / "README.md").read_text()
    for name in render_all():
        assert f"docs/{name}" in readme
