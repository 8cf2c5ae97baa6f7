"""Each layer imports only what its place in the house allows (see docs/ and the README):
use cases know nothing of HTTP, storage nothing of HTTP or image processing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTTP = {"flask", "flask_smorest", "flask_limiter", "flask_cors", "werkzeug", "webargs", "api"}


def imported_packages(path: Path) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    return imported


def modules(folder: str) -> list[Path]:
    return sorted(path for path in (ROOT / folder).rglob("*.py") if "migrations" not in path.parts)


@pytest.mark.parametrize("path", modules("services"), ids=lambda path: str(path.relative_to(ROOT)))
def test_services_import_no_http(path):
    assert not imported_packages(path) & HTTP


@pytest.mark.parametrize("path", modules("storage"), ids=lambda path: str(path.relative_to(ROOT)))
def test_storage_imports_no_http_no_use_case_and_no_image_processing(path):
    assert not imported_packages(path) & (HTTP | {"services", "schemas", "PIL", "pillow_heif"})


def test_the_api_top_level_holds_infrastructure_only():
    """Routes live in api/resources/: a module at api/'s top declares no blueprint, and
    there are about 15 of them (16, and __init__)."""
    top = sorted((ROOT / "api").glob("*.py"))
    assert len(top) <= 17
    for path in top:
        assert "Blueprint(" not in path.read_text() or path.name == "blueprint.py", path.name


def test_every_resource_module_declares_its_blueprint():
    from api.resources import BLUEPRINTS

    names = {path.stem for path in (ROOT / "api" / "resources").glob("*.py")} - {"__init__"}
    assert {blueprint.import_name.rsplit(".", 1)[1] for blueprint in BLUEPRINTS} == names
