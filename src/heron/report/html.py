"""report.html: one self-contained file (no network), rendered from a Jinja2 template."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from heron.config import HeronConfig
from heron.report.model import Report

_ENV = Environment(loader=PackageLoader("heron.report", "templates"),
                   autoescape=select_autoescape(["html", "j2"]))


def render(report: Report, config: HeronConfig) -> str:
    categories = sorted({cat for rep in report.samples.values() for c in rep.candidates
                         for cat in c.categories})
    config_yaml = config.model_dump_json(indent=1)
    return _ENV.get_template("report.html.j2").render(
        report=report, categories=categories, config_text=config_yaml,
        rank_doc=type(config.rank).__doc__)
