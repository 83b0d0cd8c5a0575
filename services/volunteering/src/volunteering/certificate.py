"""The volunteer service record certificate (志愿服务记录证明).

It follows what the national measures on volunteer service records and
certificates ask for: who served, with which organisation (team), what service,
when, how many verified hours, and who verified them, with the issuer and the
date of issue. Volunteering holds no names or ID numbers (only registration
can read them), so the volunteer is identified by the pseudonymous resident id
and registration's records complete the identity when the paper is stamped.
Only verified hours appear: scheduled or merely completed shifts are no record.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from html import escape
from typing import Any

from volunteering.views.common import hours

ISSUER = "Doorstep volunteering service (家门口志愿服务)"


def build(
    resident_id: str,
    records: list[dict[str, Any]],
    *,
    issued_at: datetime,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    total = sum(r["verified_minutes"] for r in records)
    body = {
        "volunteer": {"resident_id": resident_id},
        "period": {"since": since, "until": until},
        "records": [
            {
                "team_id": r["team_id"],
                "team_name": r["team_name"],
                "community_code": r["community_code"],
                "activity_id": r["activity_id"],
                "service": r["title"],
                "focus": r["focus"],
                "place": r["place"],
                "starts_at": r["starts_at"],
                "ends_at": r["ends_at"],
                "verified_minutes": r["verified_minutes"],
                "verified_hours": hours(r["verified_minutes"]),
                "verified_by": r["verified_by"],
                "verified_at": r["verified_at"],
            }
            for r in records
        ],
        "total_verified_minutes": total,
        "total_verified_hours": hours(total),
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return {
        "certificate_no": f"VSR-{digest[:16].upper()}",
        "issuer": ISSUER,
        "issued_at": issued_at,
        **body,
    }


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def render_html(cert: dict[str, Any]) -> str:
    """A self-contained page that prints on A4 (no scripts, no external assets)."""
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{escape(_fmt(r[k]))}</td>"
            for k in (
                "starts_at",
                "team_name",
                "service",
                "place",
                "verified_hours",
                "verified_by",
                "verified_at",
            )
        )
        + "</tr>"
        for r in cert["records"]
    )
    period = cert["period"]
    span = (
        f"{escape(_fmt(period['since']) or 'the first record')} – "
        f"{escape(_fmt(period['until']) or 'the date of issue')}"
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>志愿服务记录证明 {escape(cert["certificate_no"])}</title>
<style>
  @page {{ size: A4; margin: 20mm; }}
  body {{ font-family: "Noto Serif SC", "Songti SC", serif; color: #111; }}
  h1 {{ text-align: center; letter-spacing: .3em; margin-bottom: 0; }}
  .sub {{ text-align: center; margin-top: .2em; color: #444; }}
  table {{ width: 100%; border-collapse: collapse; margin-top: 1em; font-size: 10.5pt; }}
  th, td {{ border: 1px solid #333; padding: 4px 6px; text-align: left; }}
  .total {{ font-weight: bold; }}
  .sign {{ margin-top: 3em; display: flex; justify-content: space-between; }}
</style>
</head>
<body>
<h1>志愿服务记录证明</h1>
<p class="sub">Volunteer service record · No. {escape(cert["certificate_no"])}</p>
<p>Volunteer (pseudonymous resident id):
<strong>{escape(cert["volunteer"]["resident_id"])}</strong></p>
<p>Period: {span}</p>
<table>
<thead><tr><th>Date</th><th>Team</th><th>Service</th><th>Place</th>
<th>Verified hours</th><th>Verified by</th><th>Verified on</th></tr></thead>
<tbody>
{rows or '<tr><td colspan="7">No verified service in this period.</td></tr>'}
</tbody>
<tfoot><tr class="total"><td colspan="4">Total verified service</td>
<td colspan="3">{escape(_fmt(cert["total_verified_hours"]))} hours
({escape(_fmt(cert["total_verified_minutes"]))} minutes)</td></tr></tfoot>
</table>
<div class="sign">
<span>Issuer: {escape(cert["issuer"])}</span>
<span>Issued: {escape(_fmt(cert["issued_at"]))}</span>
<span>Seal:</span>
</div>
</body>
</html>
"""
