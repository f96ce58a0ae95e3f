"""Toxic agents: the shipped table of real chemicals and user-defined agents.

An :class:`Agent` holds what consequence assessment needs about a gas: its
molecular weight (for ppm <-> mass conversions), its Acute Exposure Guideline
Levels (AEGL-1/2/3 at 10 min, 30 min, 60 min, 4 h and 8 h, in ppm), one or more
published lethality probit sets, flammability limits and a first-order decay
rate. The shipped table (``plumecast/data/agents/agents.csv``, sources in
``SOURCES.md`` next to it) covers 13 toxic industrial chemicals. Values that
were not verified are **blank** there and ``None`` here: they are never turned
into zeros, and :meth:`Agent.data_warnings` lists them for the result tables.

A scenario names an agent either by table name (``agent: chlorine``) or defines
one inline with the same fields (``agent: {name: ..., molecular_weight_g_mol:
..., aegl_ppm: {...}, probit: {...}}``); both are validated by the same model.
Use :data:`AgentSpec` as the pydantic field type, or :func:`resolve_agent`.

References
----------
US EPA Acute Exposure Guideline Levels program; NRC (2001) *Standing Operating
Procedures for Developing AEGLs*; CPR 18E (1999) "Purple Book"; Lees (2005)
*Loss Prevention in the Process Industries*, 3rd ed., via UK HSE
SPC/Tech/OSD/30. Full citations: ``plumecast/data/agents/SOURCES.md``.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import Mapping
from importlib import resources
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from plumecast.config_model import NoBoolForNumbers
from plumecast.errors import DataFileError, ScenarioError
from plumecast.scenario_yaml import did_you_mean, shown
from plumecast.toxicology import (
    AEGL_DURATIONS_S,
    AEGL_LEVELS,
    aegl_loglog_interpolate,
    lethal_fraction_from_probit,
    probit_from_load,
)
from plumecast.units import P_STANDARD_PA, T_STANDARD_K, kg_m3_to_ppm, ppm_to_kg_m3

__all__ = [
    "AEGL_DURATIONS_S",
    "AEGL_LEVELS",
    "Agent",
    "AgentSpec",
    "ProbitSet",
    "get_agent",
    "list_agents",
    "resolve_agent",
]

ConcUnit = Literal["mg/m3", "ppm", "kg/m3"]
TimeUnit = Literal["min", "s"]

_TABLE_PACKAGE = "plumecast"
_TABLE_FILE = "data/agents/agents.csv"
_DEPOSITION_FILE = "data/agents/deposition.csv"

# Probit sets of the shipped table, in "auto" preference order.
_SHIPPED_PROBITS = {
    "purple_book": (
        "probit_pb",
        "TNO Purple Book, CPR 18E (1999), eq. 5.3 and Table 5.2",
    ),
    "lees": (
        "probit_lees",
        "Lees (2005) Loss Prevention in the Process Industries, 3rd ed., "
        "via UK HSE SPC/Tech/OSD/30 Table 2",
    ),
}


#: Largest dry deposition velocity accepted [m s-1]: the aerodynamic limit of a very
#: rough, turbulent surface is a few cm s-1; the largest measured gas values (HNO3)
#: are about 4-5 cm s-1 (AMS Glossary of Meteorology, "deposition velocity").
MAX_DRY_VELOCITY_M_S = 0.2
#: Largest scavenging factor ``a`` [s-1] and exponent ``b`` [-] accepted: FLEXPART's
#: gas values are 1e-6..1e-4 s-1 with b = 0.62 (Pisso et al. 2019, Geosci. Model
#: Dev. 12:4955); these bounds leave two orders of magnitude of margin.
MAX_SCAVENGING_A_S = 1.0e-2
MAX_SCAVENGING_B = 2.0


class ProbitSet(NoBoolForNumbers):
    """One published lethality probit ``Pr = a + b ln(sum C^n dt)``.

    Parameters
    ----------
    a, b : float
        Probit constants. [-]
    n : float
        Toxic-load exponent (> 0). [-]
    conc_unit : {"mg/m3", "ppm", "kg/m3"}
        Concentration unit the constants were published in.
    time_unit : {"min", "s"}
        Time unit the constants were published in.
    source : str
        Citation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    a: float
    b: float = Field(gt=0)
    n: float = Field(gt=0)
    conc_unit: ConcUnit
    time_unit: TimeUnit
    source: str = ""

    def concentration_factor(
        self,
        molecular_weight_g_mol: float,
        temperature_k: float = T_STANDARD_K,
        pressure_pa: float = P_STANDARD_PA,
    ) -> float:
        """Multiplier from kg m-3 to this set's concentration unit. [unit / (kg m-3)]"""
        if self.conc_unit == "kg/m3":
            return 1.0
        if self.conc_unit == "mg/m3":
            return 1e6
        return float(kg_m3_to_ppm(1.0, molecular_weight_g_mol, temperature_k, pressure_pa))

    @property
    def seconds_per_time_unit(self) -> float:
        """Length of this set's time unit. [s]"""
        return 60.0 if self.time_unit == "min" else 1.0

    @property
    def load_units(self) -> str:
        """Units of the toxic load for this set, e.g. ``'(mg m-3)^2.75 min'``."""
        conc = {"mg/m3": "mg m-3", "kg/m3": "kg m-3", "ppm": "ppm"}[self.conc_unit]
        return f"({conc})^{self.n:g} {self.time_unit}"

    @property
    def equation(self) -> str:
        """The probit as text, with units."""
        return (
            f"Pr = {self.a:g} + {self.b:g} ln(sum C^{self.n:g} dt), "
            f"C in {self.conc_unit}, t in {self.time_unit}"
        )

    def probit(self, load: Any) -> np.ndarray:
        """Probit for a toxic load in :attr:`load_units` (``-inf`` for zero load). [-]"""
        return probit_from_load(load, self.a, self.b)

    def lethal_fraction(self, load: Any) -> np.ndarray:
        """Lethal fraction ``Phi(Pr - 5)`` for a toxic load in :attr:`load_units`. [-]"""
        return lethal_fraction_from_probit(self.probit(load))


def _aegl_at(*keys: Any) -> str:
    """``"aegl2.30min: "``: the key path under ``aegl_ppm`` as the file writes it, which
    :func:`plumecast.scenario_yaml.error_lines` turns into that key's line; empty where a key
    is not a plain name (``30 min``), and the message names the level and duration itself."""
    path = ".".join(str(k) for k in keys)
    return f"{path}: " if re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", path) else ""


def _level_key(key: Any) -> int:
    text = str(key).strip().lower().replace("aegl", "").replace("-", "").replace("_", "")
    try:
        level = int(text)
    except ValueError:
        raise ValueError(f"AEGL level {key!r}: expected 1, 2 or 3 (or 'AEGL-1' ...)") from None
    if level not in AEGL_LEVELS:
        raise ValueError(f"AEGL level {key!r}: expected 1, 2 or 3")
    return level


class Agent(NoBoolForNumbers):
    """A toxic agent (shipped or user-defined).

    Parameters
    ----------
    name : str
        Agent name (the table is looked up case-insensitively).
    molecular_weight_g_mol : float
        Molecular weight (> 0). [g mol-1]
    aegl_ppm : mapping
        ``{level: {duration_label: value or None}}`` with levels 1, 2, 3 and
        duration labels ``"10min" "30min" "60min" "4h" "8h"``. [ppm] Missing
        levels or durations are ``None`` (never zero). Keys ``"AEGL-2"`` etc. are
        accepted.
    aegl_check : str
        How the AEGL values were verified (``primary-summary+secondary``,
        ``secondary``, ``not-verified``, ``user-defined`` ...). Shown to users.
    aegl_note : str
        Free-text note on the AEGL values. Shown to users.
    probits : mapping of str to ProbitSet
        Published lethality probit sets by name, in ``probit_set="auto"``
        preference order. A scenario may give a single set as ``probit:``.
    lfl_vol_pct, ufl_vol_pct : float, optional
        Lower / upper flammability limit in air. [% v/v]
    decay_rate_s : float
        First-order removal rate in air (>= 0). [s-1]
    dry_velocity_m_s : float, optional
        Dry deposition velocity (flux to the ground over the concentration near
        it). [m s-1] ``None``: no verified value (no dry deposition unless the
        scenario gives one).
    scavenging_a_s, scavenging_b : float, optional
        Below-cloud scavenging ``Λ = a P^b`` with the precipitation rate ``P`` in
        mm h-1 [s-1, -] (the form of FLEXPART's gas scavenging; Stohl et al. 2005,
        Atmos. Chem. Phys. 5:2461, doi:10.5194/acp-5-2461-2005). ``None``: no
        verified value (no wet scavenging unless the scenario gives one).
    henry_m_atm, reactivity_f0, diffusivity_ratio : float, optional
        The gas's constants in Wesely's (1989) surface-resistance model of dry
        deposition (:mod:`plumecast.transport.drydep`): effective Henry's law constant
        ``H*`` [M atm-1], reactivity ``f0`` (0 to 1) [-] and ``D_H2O / D_gas`` [-]; all
        three or none. ``None``: no verified values (no resistance model).
    deposition_source : str
        Where the deposition values come from.
    from_scenario : tuple of str
        For a shipped agent a scenario overrode (``{name: chlorine, ...}``): which of
        its values came from the scenario instead of the table (``"AEGL-3"``,
        ``"probit"``, field names); set by the scenario reader, empty otherwise. Those
        values were not verified; :meth:`data_warnings` names them.
    description : str
        Free text.
    cas, formula : str
        CAS registry number and formula, where known.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    molecular_weight_g_mol: float = Field(gt=0)
    aegl_ppm: dict[int, dict[str, float | None]] = Field(default_factory=dict)
    aegl_check: str = "user-defined"
    aegl_note: str = ""
    probits: dict[str, ProbitSet] = Field(default_factory=dict)
    lfl_vol_pct: float | None = Field(default=None, gt=0, le=100)
    ufl_vol_pct: float | None = Field(default=None, gt=0, le=100)
    decay_rate_s: float = Field(default=0.0, ge=0)
    dry_velocity_m_s: float | None = Field(default=None, ge=0, le=MAX_DRY_VELOCITY_M_S)
    scavenging_a_s: float | None = Field(default=None, ge=0, le=MAX_SCAVENGING_A_S)
    scavenging_b: float | None = Field(default=None, ge=0, le=MAX_SCAVENGING_B)
    henry_m_atm: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    reactivity_f0: float | None = Field(default=None, ge=0, le=1)
    diffusivity_ratio: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    deposition_source: str = ""
    from_scenario: tuple[str, ...] = ()
    description: str = ""
    cas: str = ""
    formula: str = ""

    @model_validator(mode="after")
    def _wesely_all_or_none(self) -> Agent:
        given = [k for k in ("henry_m_atm", "reactivity_f0", "diffusivity_ratio") if getattr(self, k) is not None]
        if given and len(given) < 3:
            raise ValueError(f"{', '.join(given)} given without the rest: Wesely's resistance model needs "
                             "henry_m_atm, reactivity_f0 and diffusivity_ratio together")
        return self

    @model_validator(mode="before")
    @classmethod
    def _single_probit(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "probit" in data:
            data = dict(data)
            if "probits" in data:
                raise ValueError(
                    "give either 'probit' (one set) or 'probits' (named sets), not both"
                )
            single = data.pop("probit")
            data["probits"] = {} if single is None else {"user": single}
        return data

    @field_validator("aegl_ppm", mode="before")
    @classmethod
    def _normalise_aegl(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValueError("aegl_ppm must be a mapping {level: {duration: ppm}}")
        out: dict[int, dict[str, float | None]] = {}
        durations = ", ".join(AEGL_DURATIONS_S)
        for key, row in value.items():
            level = _level_key(key)
            if not isinstance(row, Mapping):
                raise ValueError(f"{_aegl_at(key)}AEGL-{level} is {row!r}; expected a mapping of durations "
                                 f"({durations}) to ppm")
            full: dict[str, float | None] = dict.fromkeys(AEGL_DURATIONS_S)
            for label, ppm in row.items():
                lab = str(label).strip().lower().replace(" ", "")
                lab = {"1h": "60min", "10m": "10min", "30m": "30min", "60m": "60min"}.get(lab, lab)
                at = _aegl_at(key, label)
                named = at or f"AEGL-{level} {label}: "  # the key path, or the level and duration in words
                if lab not in AEGL_DURATIONS_S:
                    raise ValueError(f"{at}AEGL-{level} duration {label!r} is not one of the durations; "
                                     f"expected {durations}")
                if isinstance(ppm, bool):  # YAML's true is not 1 ppm
                    raise ValueError(f"{named}{str(ppm).lower()} is not a number; expected a "
                                     "positive number [ppm] or null")
                if ppm is not None:
                    try:
                        ppm = float(ppm)
                    except (TypeError, ValueError):
                        raise ValueError(f"{named}{ppm!r} is not a number; expected a "
                                         "positive number [ppm] or null") from None
                    if not (ppm > 0 and math.isfinite(ppm)):
                        raise ValueError(f"{named}{ppm:g} is not a positive number; expected a "
                                         "positive number [ppm] or null")
                full[lab] = ppm
            out[level] = full
        return out

    @model_validator(mode="after")
    def _consistent(self) -> Agent:
        for label in AEGL_DURATIONS_S:
            present = [
                (lvl, self.aegl_ppm[lvl][label])
                for lvl in AEGL_LEVELS
                if lvl in self.aegl_ppm and self.aegl_ppm[lvl][label] is not None
            ]
            for (l1, v1), (l2, v2) in zip(present, present[1:], strict=False):
                if v1 is not None and v2 is not None and v1 > v2:
                    raise ValueError(
                        f"AEGL-{l1} ({v1} ppm) exceeds AEGL-{l2} ({v2} ppm) at {label}; "
                        "levels must not decrease from AEGL-1 to AEGL-3"
                    )
        if (
            self.lfl_vol_pct is not None
            and self.ufl_vol_pct is not None
            and self.lfl_vol_pct >= self.ufl_vol_pct
        ):
            raise ValueError(
                f"lfl_vol_pct {self.lfl_vol_pct} must be below ufl_vol_pct {self.ufl_vol_pct}"
            )
        return self

    # --- AEGL -------------------------------------------------------------

    def aegl_table_ppm(self, level: int) -> np.ndarray:
        """The five tabulated AEGL values of ``level``, NaN where missing. [ppm]"""
        row = self.aegl_ppm.get(int(level), {})
        return np.array(
            [np.nan if row.get(lab) is None else row[lab] for lab in AEGL_DURATIONS_S], dtype=float
        )

    def aegl_ppm_at(self, level: int, duration_s: float) -> float | None:
        """AEGL of ``level`` for an exposure of ``duration_s``, interpolated. [ppm]

        Log-log interpolation between tabulated durations (``C^n t = k`` through
        the two bracketing points, NRC 2001 SOP sec. 2.7); the 10-min value below
        10 min and the 8-h value beyond 8 h. ``None`` when a needed value is missing.
        """
        if int(level) not in AEGL_LEVELS:
            raise ValueError(f"AEGL level {level}: expected 1, 2 or 3")
        value = float(
            aegl_loglog_interpolate(
                list(AEGL_DURATIONS_S.values()), self.aegl_table_ppm(level), duration_s
            )
        )
        return None if math.isnan(value) else value

    def aegl_kg_m3(
        self,
        level: int,
        duration_s: float,
        temperature_k: float = T_STANDARD_K,
        pressure_pa: float = P_STANDARD_PA,
    ) -> float | None:
        """AEGL of ``level`` for an exposure of ``duration_s``, interpolated. [kg m-3]

        As :meth:`aegl_ppm_at`, converted through the molecular weight at
        ``temperature_k`` [K] and ``pressure_pa`` [Pa] (default 25 degC, 1 atm,
        the reference state of the AEGL mg/m3 values). ``None`` when missing.
        """
        ppm = self.aegl_ppm_at(level, duration_s)
        if ppm is None:
            return None
        return float(ppm_to_kg_m3(ppm, self.molecular_weight_g_mol, temperature_k, pressure_pa))

    def missing_aegl(self) -> dict[int, list[str]]:
        """Missing AEGL durations per level (empty dict when the table is complete)."""
        out: dict[int, list[str]] = {}
        for level in AEGL_LEVELS:
            row = self.aegl_ppm.get(level, {})
            gaps = [lab for lab in AEGL_DURATIONS_S if row.get(lab) is None]
            if gaps:
                out[level] = gaps
        return out

    # --- probit -----------------------------------------------------------

    def probit_set(self, name: str = "auto") -> ProbitSet | None:
        """A probit set by name; ``"auto"`` is the first set (Purple Book for the
        shipped table). ``None`` if the agent has no such set."""
        if name == "auto":
            return next(iter(self.probits.values()), None)
        return self.probits.get(name)

    def probit_set_name(self, name: str = "auto") -> str | None:
        """The name that ``probit_set(name)`` resolves to, or ``None``."""
        if name == "auto":
            return next(iter(self.probits), None)
        return name if name in self.probits else None

    def probit(
        self, concentration_kg_m3: Any, duration_s: Any, probit_set: str = "auto"
    ) -> np.ndarray:
        """Probit for a constant exposure. [-]

        Parameters
        ----------
        concentration_kg_m3 : array_like
            Constant concentration. [kg m-3]
        duration_s : array_like
            Exposure duration. [s]
        probit_set : str
            Probit set name or ``"auto"``.

        Raises
        ------
        KeyError
            If the agent has no such probit set.
        """
        ps = self._require_probit(probit_set)
        c = np.asarray(concentration_kg_m3, dtype=float) * ps.concentration_factor(
            self.molecular_weight_g_mol
        )
        load = np.power(c, ps.n) * (np.asarray(duration_s, dtype=float) / ps.seconds_per_time_unit)
        return ps.probit(load)

    def lethal_fraction(
        self, concentration_kg_m3: Any, duration_s: Any, probit_set: str = "auto"
    ) -> np.ndarray:
        """Lethal fraction ``Phi(Pr - 5)`` for a constant exposure. [-]

        See :meth:`probit` for the parameters.
        """
        return lethal_fraction_from_probit(self.probit(concentration_kg_m3, duration_s, probit_set))

    def _require_probit(self, name: str) -> ProbitSet:
        ps = self.probit_set(name)
        if ps is None:
            raise KeyError(
                f"agent {self.name!r} has no probit set {name!r}; it has {list(self.probits) or 'none'}"
            )
        return ps

    # --- flags ------------------------------------------------------------

    def deposition_warnings(self) -> list[str]:
        """Deposition values this agent lacks (a run then leaves that removal out)."""
        missing = [what for what, value in (("dry deposition velocity", self.dry_velocity_m_s),
                                             ("wet scavenging parameters", self.scavenging_a_s))
                   if value is None]
        if not missing:
            return []
        return [f"{self.name}: no verified {' or '.join(missing)}; that removal is left out unless the "
                "scenario gives deposition values, so airborne concentrations are an upper bound in that respect"]

    @property
    def flammable(self) -> bool:
        """True when a lower flammability limit is known."""
        return self.lfl_vol_pct is not None

    def data_warnings(self, probit_set: str = "auto") -> list[str]:
        """Data-quality flags to show next to any result for this agent."""
        out: list[str] = []
        for level, gaps in self.missing_aegl().items():
            if len(gaps) == len(AEGL_DURATIONS_S):
                out.append(
                    f"{self.name}: AEGL-{level} missing (all durations); exceedance of AEGL-{level}"
                    + (" and % of lethal level" if level == 3 else "")
                    + " not computed (reported as n/a, not as 'never')"
                )
                continue
            spans = " or ".join(unreadable_spans(self.aegl_table_ppm(level)))
            out.append(
                f"{self.name}: AEGL-{level} missing at {', '.join(gaps)}: it cannot be read for exposures "
                f"lasting {spans}, so where the first exceedance of AEGL-{level} may fall there it"
                + (" and the % of lethal level are" if level == 3 else " is")
                + " reported as n/a, not as 'never'"
            )
        if self.aegl_check not in ("primary-summary+secondary", "user-defined"):
            where = " (see plumecast/data/agents/SOURCES.md)" if self.name.lower() in _table() else ""
            out.append(f"{self.name}: AEGL values verification status '{self.aegl_check}'{where}")
        if self.aegl_note:
            out.append(f"{self.name}: {self.aegl_note}")
        if self.from_scenario:
            out.append(self._override_warning())
        elif self.aegl_check == "user-defined" and self.aegl_ppm:
            out.append(
                f"{self.name}: user-defined agent; AEGL and probit values come from the scenario"
            )
        if self.probit_set(probit_set) is None:
            out.append(
                f"{self.name}: no probit set {probit_set!r} (has {list(self.probits) or 'none'}); "
                "lethal fraction and fatalities not computed (NaN, not zero)"
            )
        return out


    def _override_warning(self) -> str:
        """What a scenario changed in a shipped agent (:attr:`from_scenario`)."""
        shipped = _table().get(self.name.strip().lower())
        what = []
        for item in self.from_scenario:
            if item == "probit":
                had = ", ".join(shipped.probits) if shipped is not None and shipped.probits else "none"
                what.append(f"probit ({', '.join(self.probits) or 'none'}; replaces the shipped sets: {had})")
            elif item == "molecular_weight_g_mol" and shipped is not None:
                what.append(f"molecular_weight_g_mol ({self.molecular_weight_g_mol:g} g/mol; table "
                            f"{shipped.molecular_weight_g_mol:g}, used for every ppm <-> mass conversion)")
            else:
                what.append(item)
        return (f"{self.name}: values from the scenario, not the shipped table (not verified by plumecast): "
                f"{'; '.join(what)}; every other value as shipped")


def unreadable_spans(table_ppm: Any) -> list[str]:
    """The exposure durations for which an AEGL row with gaps cannot be read
    (:func:`plumecast.toxicology.aegl_loglog_interpolate` gives NaN there), as text:
    ``["between 10min and 60min", "over 4h"]``. Empty for a full row."""
    labels = list(AEGL_DURATIONS_S)
    missing = np.isnan(np.asarray(table_ppm, dtype=float))
    out: list[str] = []
    i = 0
    while i < len(labels):
        if not missing[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(labels) and missing[j + 1]:
            j += 1
        lo = labels[i - 1] if i > 0 else None
        hi = labels[j + 1] if j + 1 < len(labels) else None
        if lo is None and hi is None:
            out.append("of any duration")
        elif lo is None:
            out.append(f"under {hi}")
        elif hi is None:
            out.append(f"over {lo}")
        else:
            out.append(f"between {lo} and {hi}")
        i = j + 1
    return out


# --- the shipped table ----------------------------------------------------


def _opt_float(row: Mapping[str, str], key: str) -> float | None:
    text = (row.get(key) or "").strip()
    return float(text) if text else None


def _agent_from_row(row: Mapping[str, str]) -> Agent:
    aegl = {
        level: {lab: _opt_float(row, f"aegl{level}_{lab}_ppm") for lab in AEGL_DURATIONS_S}
        for level in AEGL_LEVELS
    }
    probits: dict[str, ProbitSet] = {}
    for set_name, (prefix, source) in _SHIPPED_PROBITS.items():
        a, b, n = (_opt_float(row, f"{prefix}_{k}") for k in ("a", "b", "n"))
        if a is None or b is None or n is None:
            continue
        if set_name == "lees" and row["agent"] == "chlorine":
            source += "; equals Withers & Lees (1985) J. Hazard. Mater. 12:283-302"
        probits[set_name] = ProbitSet(
            a=a,
            b=b,
            n=n,
            conc_unit=row[f"{prefix}_conc_unit"].strip(),  # type: ignore[arg-type]
            time_unit=row[f"{prefix}_time_unit"].strip(),  # type: ignore[arg-type]
            source=source,
        )
    return Agent(
        name=row["agent"].strip(),
        molecular_weight_g_mol=float(row["mw_g_mol"]),
        aegl_ppm=aegl,  # type: ignore[arg-type]
        aegl_check=row["aegl_check"].strip(),
        aegl_note=row["aegl_note"].strip(),
        probits=probits,
        lfl_vol_pct=_opt_float(row, "lfl_vol_pct"),
        ufl_vol_pct=_opt_float(row, "ufl_vol_pct"),
        description=f"{row['formula']} (CAS {row['cas']}); flammability: {row['flammability_source']}",
        cas=row["cas"].strip(),
        formula=row["formula"].strip(),
    )


def _deposition_rows() -> dict[str, dict[str, Any]]:
    """The shipped deposition table (``data/agents/deposition.csv``) as Agent fields
    by lower-case agent name; blank cells are ``None`` (unknown, never zero)."""
    path = resources.files(_TABLE_PACKAGE).joinpath(_DEPOSITION_FILE)
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        return {
            row["agent"].strip().lower(): {
                "dry_velocity_m_s": _opt_float(row, "dry_velocity_m_s"),
                "scavenging_a_s": _opt_float(row, "scavenging_a_s"),
                "scavenging_b": _opt_float(row, "scavenging_b"),
                "henry_m_atm": _opt_float(row, "henry_m_atm"),
                "reactivity_f0": _opt_float(row, "f0"),
                "diffusivity_ratio": _opt_float(row, "diffusivity_ratio"),
                "deposition_source": row["source"].strip(),
            }
            for row in rows
        }
    except (OSError, KeyError, ValueError) as exc:
        raise DataFileError(f"{path}: shipped deposition table is unreadable: {exc}") from exc


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, Agent]:
    path = resources.files(_TABLE_PACKAGE).joinpath(_TABLE_FILE)
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        agents = {row["agent"].strip().lower(): _agent_from_row(row) for row in rows}
    except (OSError, KeyError, ValueError) as exc:
        raise DataFileError(f"{path}: shipped agent table is unreadable: {exc}") from exc
    deposition = _deposition_rows()
    return {key: agent.model_copy(update=deposition.get(key, {})) for key, agent in agents.items()}


def list_agents() -> list[str]:
    """Names of the agents in the shipped table, in table order."""
    return [agent.name for agent in _table().values()]


def get_agent(name: str) -> Agent:
    """The shipped agent called ``name`` (case-insensitive).

    Raises
    ------
    ScenarioError
        If there is no such agent; the message lists the known names.
    """
    key = str(name).strip().lower()
    table = _table()
    if key not in table:
        raise ScenarioError(
            f"agent: unknown agent {name!r}{f' ({hint})' if (hint := did_you_mean(key, table)) else ''}; known "
            f"agents are {', '.join(list_agents())}. "
            "Define a new agent inline with name, molecular_weight_g_mol, aegl_ppm and probit."
        )
    return table[key]


def _coerce_agent(value: Any) -> Any:
    """Pydantic pre-validator: table name -> Agent; a mapping whose ``name`` is in the
    table -> the table entry with the given values over it (:func:`_override`); anything
    else (``agent: 5``, a list) refused saying what an agent may be (pydantic had said
    "Input should be a valid dictionary"; badinput audit, session 34)."""
    if not isinstance(value, str | Mapping | Agent):
        raise ValueError(f"{shown(value)} is not an agent; expected the name of a shipped agent (e.g. chlorine; "
                         "`plumecast agents` lists them) or a mapping of the agent's fields (name, "
                         "molecular_weight_g_mol, aegl_ppm, probit ...; docs/scenario.md)")
    if isinstance(value, str):
        try:
            return get_agent(value)
        except ScenarioError as exc:
            raise ValueError(str(exc).removeprefix("agent: ")) from None
    if isinstance(value, Mapping):
        value = {k: v for k, v in value.items() if k != "from_scenario"}  # recomputed, never taken as given
        if "name" in value:
            key = str(value["name"]).strip().lower()
            if key in _table():
                return _override(_table()[key], value)
    return value


def _probits_dump(value: Any) -> Any:
    """Probit sets as plain mappings, to compare a scenario's with the table's (the value
    itself when it is not a valid set: the model's validation then says why)."""
    if not isinstance(value, Mapping):
        return value
    try:
        return {str(k): ProbitSet.model_validate(v).model_dump() for k, v in value.items()}
    except (ValueError, TypeError):
        return value


def _override(shipped: Agent, value: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``shipped`` with a scenario's ``value`` over them.

    * ``aegl_ppm``: each level given replaces that level's row (durations left out of it
      are missing, never the table's); the levels not given keep the table's values.
    * ``probit`` / ``probits``: replace the table's sets (the range over sets is then
      over the scenario's only).
    * any other field replaces the table's (``molecular_weight_g_mol`` too).

    Only values that differ from the table's count as the scenario's: they are listed
    in ``from_scenario`` (so an agent read back from its own dump is unchanged).
    ``aegl_check`` says which AEGL levels came from the scenario (``"user-defined"`` when
    all that have values did), unless the scenario gives its own.
    """
    data = dict(value)
    if "probit" in data:
        if "probits" in data:
            raise ValueError("give either 'probit' (one set) or 'probits' (named sets), not both")
        single = data.pop("probit")
        data["probits"] = {} if single is None else {"user": single}
    base = shipped.model_dump()
    merged = dict(base)
    changed: list[str] = []
    aegl_levels: list[int] = []
    for key, given in data.items():
        if key in ("name", "aegl_check", "aegl_note"):
            continue
        if key == "aegl_ppm":
            rows = Agent._normalise_aegl(given)  # type: ignore[operator]
            aegl = dict(base["aegl_ppm"])
            for level, row in rows.items():
                if row != base["aegl_ppm"].get(level):
                    aegl_levels.append(level)
                aegl[level] = row
            merged["aegl_ppm"] = aegl
        elif key == "probits":
            merged["probits"] = given
            if _probits_dump(given) != base["probits"]:
                changed.append("probit")
        else:
            merged[key] = given
            if key not in base or given != base[key]:
                changed.append(key)
    aegl_levels.sort()
    check, note = base["aegl_check"], base["aegl_note"]
    if aegl_levels:
        rest = [lv for lv in AEGL_LEVELS if lv not in aegl_levels
                and any(v is not None for v in merged["aegl_ppm"].get(lv, {}).values())]
        ours = ", ".join(f"AEGL-{lv}" for lv in aegl_levels)
        check = ("user-defined" if not rest else
                 f"mixed: {ours} from the scenario (not verified), "
                 f"{', '.join(f'AEGL-{lv}' for lv in rest)} {base['aegl_check']}")
        if not rest:
            note = ""  # the table's note was about the table's values
    for key, derived in (("aegl_check", check), ("aegl_note", note)):
        given = data.get(key, derived)
        merged[key] = given
        if given not in (derived, base[key]):
            changed.append(key)
    merged["name"] = data.get("name", base["name"])
    merged["from_scenario"] = tuple([f"AEGL-{lv}" for lv in aegl_levels] + changed)
    return merged


AgentSpec = Annotated[Agent, BeforeValidator(_coerce_agent)]
"""Pydantic field type for scenarios: a table name or an inline agent definition.

An inline mapping whose ``name`` is in the shipped table starts from the table
entry and overrides the given fields (e.g. ``{name: chlorine, decay_rate_s: 1.0e-5}``;
an ``aegl_ppm`` level given replaces that level only): the values that differ from
the table's are listed in ``Agent.from_scenario`` and in the warnings.
"""


def resolve_agent(spec: str | Agent | Mapping[str, Any]) -> Agent:
    """An :class:`Agent` from a table name, an agent, or an inline definition.

    Raises
    ------
    ScenarioError
        Unknown name or invalid definition, with the reason.
    """
    if isinstance(spec, Agent):
        return spec
    if isinstance(spec, str):
        return get_agent(spec)
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(AgentSpec).validate_python(spec)
    except ValidationError as exc:
        from plumecast.scenario_yaml import error_lines

        # the problems in the scenario's words ("agent: molecular_weight_g_mol: 0 is too small; expected more than 0")
        raise ScenarioError("invalid agent definition: " + "; ".join(error_lines(exc, "agent", {}, data=spec))) from None
