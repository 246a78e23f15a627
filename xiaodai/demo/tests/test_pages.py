"""Every page the demo's roles can reach opens: a crawl of the demo branch, as each login, following links.

The pages' own tests build exactly the data they need; this one meets what real data holds (a trained
model's reasons, customers never contacted, holdings with gaps), which is where a page breaks unnoticed."""

from __future__ import annotations

import html
import re
from collections import deque
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from xiaodai.scoring.choices import ModelKind, ModelStatus
from xiaodai.scoring.models import ScoringModel

CUSTOMERS = 2_000  # enough contact history for the demo to train a model
PAGES_PER_ROLE = 300
PER_SHAPE = 2  # pages of one shape (the path with ids as N; any query string counts as one) per role
SKIP = ("logout", "/static/", "/api/", "/i18n/", ".csv", ".xlsx", "export", "download", "/admin/")
ROLES = ("head", "lead", "manager", "tele", "lobby", "corporate", "wealth", "ops", "auditor", "postloan")
LINK = re.compile(r'href="(/[^"#]*)"')


def _crawl(client: Client) -> tuple[int, list[tuple[str, int]]]:
    """Open pages breadth-first from the home page: how many were opened, and those that answered 5xx."""
    queue, seen, shapes, broken = deque(["/"]), set(), dict[str, int](), []
    while queue and len(seen) < PAGES_PER_ROLE:
        url = queue.popleft()
        path, query = url.partition("?")[::2]
        shape = re.sub(r"\d+", "N", path) + ("?" if query else "")
        if url in seen or shapes.get(shape, 0) >= PER_SHAPE:
            continue
        seen.add(url)
        shapes[shape] = shapes.get(shape, 0) + 1
        response = client.get(url)
        if response.status_code >= 500:
            broken.append((url, response.status_code))
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            links = (html.unescape(h) for h in LINK.findall(response.content.decode()))
            queue.extend(h for h in links if not any(s in h for s in SKIP))
    return len(seen), broken


@pytest.mark.django_db
def test_no_page_the_demo_roles_reach_breaks(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    call_command("demo", "--customers", str(CUSTOMERS), "--as-of", "2026-11-28", stdout=StringIO())
    trained = ScoringModel.objects.filter(kind=ModelKind.LIGHTGBM, status=ModelStatus.ACTIVE)
    assert trained.exists()  # a trained model ranks, with reasons quoting each customer's own values
    opened, broken = {}, {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        client.force_login(get_user_model().objects.get(username=role))
        opened[role], broken[role] = _crawl(client)
    assert {role: pages for role, pages in broken.items() if pages} == {}
    assert opened["head"] > 50, opened  # the crawl reached the pages, not only the home page
    assert opened["tele"] > 20, opened
