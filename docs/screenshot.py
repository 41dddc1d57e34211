"""Regenerate docs/report.png, docs/review.png and docs/index.png: the demo's acme report on its
second night, after the TEM export added a column of e-mails (so the summary shows what needs
review), the report's review items (quarantined files, rejected rows, columns to decide), and the
report index over every customer.

    make screenshot        # or: .venv/bin/python docs/screenshot.py [--out docs/report.png]

Runs the demo (Prefect's ephemeral mode) in a temporary lake, lands one changed extract, runs
the nightly flow again, and photographs the HTML in headless Chromium (Debian's `chromium`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="piiscan-screenshot-") as tmp:
        os.environ["PREFECT_HOME"] = str(Path(tmp) / "prefect")  # a private temporary server
        os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        os.environ.setdefault("PIISCAN_KEYS_DIR", str(Path(tmp) / "keys"))
        lake = Path(tmp) / "lake"
        piiscan = str(Path(sys.executable).with_name("piiscan"))
        subprocess.run([piiscan, "demo", "--lake", str(lake)], check=True, cwd=REPO)
        extract = next((lake / "landing" / "acme" / "generic").glob("*.parquet"))
        frame = pl.read_parquet(extract)
        emails = [f"contact{i}@acme.example.com" for i in range(frame.height)]
        changed = frame.with_columns(pl.Series("contact_email", emails), pl.col("charge") * 2)
        changed.write_parquet(extract.with_name("tem_invoice_lines_202611.parquet"))
        from flows.nightly import nightly

        state = nightly(lake=str(lake), config_dir=str(REPO / "configs"), return_state=True)
        result = state.result()
        html = Path(result["customers"]["acme"]["html"])
        shoot(html, args.out)
        shoot(html, args.out.with_name("review.png"), "#summary")
        shoot(Path(result["index"]), args.out.with_name("index.png"))
    names = ", ".join(str(args.out.with_name(n)) for n in ("review.png", "index.png"))
    print(f"wrote {args.out}, {names}")


def shoot(html: Path, out: Path, selector: str | None = None) -> None:
    """A 1280-pixel-wide picture of the page's first screens, or of one element of it."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("Debian's chromium is needed: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(html.as_uri())
        if selector is None:
            page.screenshot(path=str(out))
        else:
            page.locator(selector).screenshot(path=str(out))
        browser.close()


if __name__ == "__main__":
    main()
