"""The dashboard's templates (Jinja2, autoescaped) and the filters that write its figures.

Every figure is formatted here, on the server, by domain/formatting.py: money and quantities from
their Decimal, never through float; the page's script only swaps in the HTML it is sent.
"""

from __future__ import annotations

import pathlib
from typing import Any

import jinja2
from starlette.templating import Jinja2Templates

from services.edge.dashboard.domain import formatting

HERE = pathlib.Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_URL = "/dashboard/static"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        number=formatting.number,
        amount=formatting.amount,
        money=formatting.money,
        percent=formatting.percent,
        decimal_percent=formatting.decimal_percent,
        age=formatting.age,
        date=formatting.date_text,
        simtime=formatting.sim_time_text,
        clocktime=formatting.clock_time_text,
        sign=formatting.sign_class,
    )
    env.globals.update(MISSING=formatting.MISSING, static=STATIC_URL)
    return env


class Renderer:
    """Pages (TemplateResponse) and panels (HTML fragments) from the same templates."""

    def __init__(self) -> None:
        self.templates = Jinja2Templates(env=environment())

    def fragment(self, name: str, **context: Any) -> str:
        return self.templates.get_template(name).render(**context)
