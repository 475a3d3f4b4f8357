"""The HTML report in a real headless Chromium: its script draws every candidate of the
report's data with its reasons, it renders offline, the 'new since last run' view lists the
new variant, the filters hide what they should, and text from the data never becomes markup."""

from __future__ import annotations

import html as htmltext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from test_reanalysis import REPO, demo_config, new_release
from test_report_build import HOSTILE_GENE, HOSTILE_REASON, cohort  # noqa: F401 (fixture)

from heron.pipeline import run_local
from heron.report import html
from heron.report.model import load_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")


def chromium(args: list[str], profile: Path) -> str:
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=3000"]
    out = subprocess.run(base + args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    run_local(demo_config(tmp, REPO / "resources/demo/clinvar.vcf.gz", "2026-10-06"))
    results = run_local(demo_config(tmp, new_release(tmp), "2026-11-03"))
    return results / "report.html"


def dom(report_html: Path, fragment: str, tmp_path: Path) -> str:
    return chromium(["--dump-dom", f"{report_html.as_uri()}#{fragment}"], tmp_path / "profile")


def visible_rows(html: str) -> list[str]:
    rows = re.findall(r'<tr class="candidate( hidden)?"[^>]*>\s*<td>\d+</td>\s*<td>([^<\s]+)', html)
    return [variant for hidden, variant in rows if not hidden]


def test_every_candidate_is_drawn_with_its_reasons(report_html, tmp_path):
    report = load_report(report_html.parent / "report.json")
    page = dom(report_html, "", tmp_path)
    expected = [c.variant_id for rep in report.samples.values() for c in rep.candidates]
    assert report.summary.candidates == len(expected) > 0
    assert visible_rows(page) == expected
    assert f"{len(expected)} shown" in page
    drawn = page.split("<script")[0]  # the page, not the script's source
    assert drawn.count('<div class="patient"') == len(report.samples)
    changed = [(s, c) for s, rep in report.samples.items() for c in rep.candidates
               if c.variant_id == "chr9:127663330:G:A"][0][1]
    row = page.split(">chr9:127663330:G:A")[1].split("</tr>")[0]
    assert f"why {changed.change.status}" in row
    assert htmltext.escape(changed.change.reasons[0], quote=False) in row
    assert "2026-10-05 → 2026-11-02" in row
    assert f'href="{changed.links["gnomad"]}"' in row


def test_text_from_the_data_stays_text(cohort, tmp_path):  # noqa: F811
    config, data = cohort
    page_file = tmp_path / "report.html"
    page_file.write_text(html.render(data, config), encoding="utf-8")
    page = dom(page_file, "", tmp_path)
    assert "<img" not in page and "<b>" not in page.split("<script")[0]
    assert re.search(r"<title>[^<]*</title>", page).group(0).count("owned") == 0
    assert len(visible_rows(page)) == 5 and "1 more below the line" in page
    assert htmltext.escape(HOSTILE_GENE, quote=False) in page
    new_view = dom(page_file, "tab=new&new=1", tmp_path)
    assert visible_rows(new_view) == ["chrX:31819974:G:A", "chr1:1000:A:G"]
    new_table = new_view.split('id="new-table"')[1].split("</table>")[0]
    assert htmltext.escape(HOSTILE_REASON.rstrip("\u2028"), quote=False) in new_table
    dropped = new_view.split('id="dropped-table"')[1].split("</table>")[0]
    assert "chr9:1:A:T" in dropped and "chr7:3000:G:C" not in dropped


def test_self_contained(report_html):
    text = report_html.read_text()
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', text)


def test_new_since_last_run_view(report_html, tmp_path):
    html = dom(report_html, "tab=new", tmp_path)
    assert re.search(r'<button data-tab="new" id="tab-new" class="active">', html)
    new_table = html.split('id="new-table"')[1].split("</table>")[0]
    assert "chr9:127663330:G:A" in new_table and "2026-10-05 → 2026-11-02" in new_table
    dropped = html.split('id="dropped-table"')[1].split("</table>")[0]
    assert "chr12:102840507:G:A" in dropped


def test_filters(report_html, tmp_path):
    everything = visible_rows(dom(report_html, "", tmp_path))
    assert len(everything) == 9
    only_new = dom(report_html, "new=1", tmp_path)
    assert visible_rows(only_new) == ["chr9:127663330:G:A"]
    assert "1 shown" in only_new
    high_impact = visible_rows(dom(report_html, "category=high_impact", tmp_path))
    assert set(high_impact) == {"chr2:165310398:C:T", "chrX:31819974:G:A",
                                "chrX:153725100:C:T"}


def test_screenshot(report_html, tmp_path):
    shot = tmp_path / "report.png"
    chromium([f"--screenshot={shot}", "--window-size=1280,900", report_html.as_uri()],
             tmp_path / "profile")
    assert shot.stat().st_size > 10_000
