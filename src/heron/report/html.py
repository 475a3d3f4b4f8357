"""report.html: one self-contained file that opens without network.

Jinja2 renders the page frame (run, summary, configuration). The patients and their
candidates travel as one JSON document in a ``<script type="application/json">`` element,
drawn into the tables by a small inline script (``templates/report.js``): rendering each cell
of tens of thousands of candidates through the template took longer than the rest of the
report stage together.
"""

from __future__ import annotations

from importlib.resources import files

import pydantic_core
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from heron.config import HeronConfig
from heron.report.model import ReportData

_ENV = Environment(loader=PackageLoader("heron.report", "templates"),
                   autoescape=select_autoescape(["html", "j2"]))
_SCRIPT = (files("heron.report") / "templates" / "report.js").read_text(encoding="utf-8")

# JSON string escapes for what could end the <script> element or open markup inside it
# (``</script>``, ``<!--``), and for the separators older JavaScript parsers took as line ends.
_SCRIPT_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                   ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def script_json(data) -> str:
    """``data`` as compact JSON text that is safe as the content of a
    ``<script type="application/json">`` element and parses back to ``data``."""
    text = pydantic_core.to_json(data).decode()
    for raw, escaped in _SCRIPT_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def render(report: ReportData, config: HeronConfig) -> str:
    data = script_json({"samples": report.samples, "dropped_since_last_run": report.dropped})
    return _ENV.get_template("report.html.j2").render(
        report=report, categories=list(report.summary.per_category), data=Markup(data),
        script=Markup(_SCRIPT), config_text=config.model_dump_json(indent=1),
        rank_doc=type(config.rank).__doc__)
