"""`altaviz-hub compliance ...`: the calculator, exports, incident screening, the run check.

`calculate` needs no lake and no database: the inputs file alone (see docs/compliance.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the `compliance` command and its actions to `altaviz-hub`'s sub-parsers."""
    parser = sub.add_parser(
        "compliance", help="EPA Subpart W emissions and PHMSA 191/192 reporting"
    )
    actions = parser.add_subparsers(dest="compliance_action", required=True)
    calc = actions.add_parser(
        "calculate", help="Subpart W CH4, CO2, CO2e per source from an inputs file (prints JSON)"
    )
    calc.add_argument("--inputs", type=Path, required=True, help="YAML or JSON inputs file")
    calc.add_argument(
        "--year", type=int, required=True, help="reporting year (selects the rule version)"
    )
    calc.add_argument(
        "--out",
        type=Path,
        help="also write the facility's exports (CSV, PDF, e-GGRT JSON/XML) here",
    )
    screen = actions.add_parser(
        "screen-incident", help="screen an event against 49 CFR 191.3 (prints JSON)"
    )
    screen.add_argument("--event", type=Path, required=True, help="YAML or JSON event file")
    screen.add_argument("--out", type=Path, help="also write the screening record PDF here")
    check = actions.add_parser(
        "check-run", help="the emissions estimator on a simulator run against its truth"
    )
    check.add_argument("--run", type=Path, required=True, help="simulator run directory")
    check.add_argument("--fleet", type=Path, required=True, help="fleet file of the run")
    check.add_argument(
        "--emission-factors", type=Path, help="default: the package's emission_factors.yaml"
    )


def run(args: argparse.Namespace) -> int:
    action = args.compliance_action
    if action == "calculate":
        return _calculate(args)
    if action == "screen-incident":
        return _screen(args)
    return _check_run(args)


def _calculate(args: argparse.Namespace) -> int:
    from hub.compliance.report import as_json, calculate
    from hub.compliance.schemas import load_inputs

    result = calculate(load_inputs(args.inputs), year=args.year)
    if args.out is not None:
        from hub.compliance.exports import write_facility_exports

        for path in write_facility_exports(result, args.out):
            print(f"wrote {path}", file=sys.stderr)
    json.dump(as_json(result), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _screen(args: argparse.Namespace) -> int:
    from hub.compliance.phmsa import load_event, screen_incident

    screening = screen_incident(load_event(args.event))
    if args.out is not None:
        from hub.compliance.pdf import incident_pdf

        path = incident_pdf(screening, args.out)
        print(f"wrote {path}", file=sys.stderr)
    json.dump(screening.as_json(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _check_run(args: argparse.Namespace) -> int:
    from hub.compliance.run_check import emissions_lines
    from models.fleet_runs import open_run

    for line in emissions_lines(open_run(args.run), args.fleet, args.emission_factors):
        print(line)
    return 0
