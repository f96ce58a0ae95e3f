"""``plumecast agents``: what plumecast knows."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from plumecast.cli.common import console


def register(app: typer.Typer) -> None:
    @app.command("agents")
    def agents_command() -> None:
        """List the shipped toxic agents with their AEGL-3 (60 min) and data status."""
        from plumecast.agents import get_agent, list_agents

        head = ["agent", "MW [g/mol]", "AEGL-3 60 min [ppm]", "AEGL check", "probit sets", "LFL [% v/v]",
                "deposition"]
        body = []
        for name in list_agents():
            a = get_agent(name)
            aegl3 = a.aegl_ppm_at(3, 3600.0)
            body.append([escape(a.name), f"{a.molecular_weight_g_mol:.2f}", "—" if aegl3 is None else f"{aegl3:g}",
                         escape(a.aegl_check), escape(", ".join(a.probits) or "—"),
                         "—" if a.lfl_vol_pct is None else f"{a.lfl_vol_pct:g}", escape(_deposition(a))])
        from plumecast.table_parts import split_table

        # in parts that fit the terminal, every word whole (at 80 columns "deposition" had read "depositio n")
        for table in split_table("shipped agents", [escape(h) for h in head], body, console.width, left=(0, 3, 4, 6)):
            console.print(table)

def _deposition(a: Any) -> str:
    """What removal the agent's own values allow: dry deposition (a velocity, or
    Wesely's resistance model with ``deposition.land_use``) and wet scavenging."""
    parts = []
    if a.dry_velocity_m_s is not None:
        parts.append(f"dry {a.dry_velocity_m_s:g} m/s")
    elif a.henry_m_atm is not None:
        parts.append("dry: resistance model")
    if a.scavenging_a_s is not None:
        parts.append("wet")
    return ", ".join(parts) or "—"
