"""Helpers for the tests that open a real browser (the report's page, the explorer)."""
from __future__ import annotations

import os
import shutil

import pytest


def chromium() -> str:
    """Debian's Chromium on PATH; else a skip — or, with CI set, a failure (.ci/run installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test, but chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return found
