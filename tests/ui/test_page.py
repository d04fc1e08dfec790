"""The built page is served by the plugin app, to a logged-in user only, with nothing from a CDN."""

from __future__ import annotations

import re

import pytest

from airflow_mlplat.ui.app import STATIC_DIR


@pytest.fixture(autouse=True)
def built_page():
    assert (STATIC_DIR / "index.html").exists(), "the page is not built: run `make ui` (part of `make install`)"


def test_page_and_assets_are_served_to_a_user(client, admin):
    page = client.get("/mlplat/", headers=admin)
    assert page.status_code == 200 and "Visual modelling" in page.text
    assets = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', page.text)
    assert assets, page.text
    for asset in assets:
        response = client.get(f"/mlplat/{asset}", headers=admin)
        assert response.status_code == 200 and len(response.content) > 100
        assert client.get(f"/mlplat/{asset}").status_code == 401


def test_no_url_in_the_bundle_points_off_the_server():
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in {".html", ".js", ".css"}:
            assert not re.search(r"""["'(]https?://""", path.read_text()), f"{path} refers to an external URL"


def test_asset_paths_cannot_leave_the_bundle(client, admin):
    assert client.get("/mlplat/assets/%2e%2e/%2e%2e/app.py", headers=admin).status_code == 404
