"""Score a stored audience with a registered uplift model through a running MDS server.

    python examples/hillstrom/score_audience.py --address 127.0.0.1:50051 \
        --segment new_urban_womens_200 --model hillstrom_womens --max-users 100

Everything goes over gRPC with the Python client (``services.client.MDSClient``): ``GetSegment``
returns the audience's members (the first ``--members`` in sorted order; the RPC returns at most
1,000), ``UpliftService.Score`` scores them with features the server reads from Redis, and
``UpliftService.SelectTop`` picks whom to e-mail under a budget of ``--max-users``. ``--json`` writes
the numbers for scripts and tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from services.client import MDSClient

_RPC_MEMBER_LIMIT = 1000  # GetSegment's sample_size ceiling


def score_audience(address: str, segment: str, model: str, *, members: int, max_users: int,
                   token: str | None = None) -> dict[str, Any]:
    """Members of ``segment`` → their uplift (``Score``) → the ``max_users`` to treat (``SelectTop``)."""
    with MDSClient(address, token=token, timeout_s=30) as mds:
        stored = mds.targeting.get_segment(segment, sample_size=members)
        ids = list(stored.sample_user_ids)
        start = time.perf_counter()
        scored = mds.uplift.score(model, ids)
        score_s = time.perf_counter() - start
        top = mds.uplift.select_top(model, ids, max_users=max_users)
    uplift = sorted(s.uplift for s in scored.scores)
    return {
        "segment": segment, "logic": stored.logic, "audience_size": stored.count, "scored": len(scored.scores),
        "missing": list(scored.missing_user_ids), "model": scored.model, "version": scored.version,
        "score_seconds": score_s,
        "uplift_min": uplift[0] if uplift else None, "uplift_max": uplift[-1] if uplift else None,
        "uplift_mean": sum(uplift) / len(uplift) if uplift else None,
        "scores": {s.user_id: s.uplift for s in scored.scores},
        "selected": [{"user_id": u.user_id, "uplift": u.uplift} for u in top.selected],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1:50051", help="host:port of `mds serve`")
    parser.add_argument("--segment", required=True, help="segment stored by `mds targeting select --segment`")
    parser.add_argument("--model", required=True, help="registered uplift model (`mds uplift train --name`)")
    parser.add_argument("--members", type=int, default=_RPC_MEMBER_LIMIT,
                        help=f"members to score (1..{_RPC_MEMBER_LIMIT})")
    parser.add_argument("--max-users", type=int, default=100, help="SelectTop budget: customers to treat")
    parser.add_argument("--token", default=None, help="bearer token when the server sets MDS_AUTH_TOKENS")
    parser.add_argument("--json", type=Path, default=None, help="write the result here")
    args = parser.parse_args()
    if not 1 <= args.members <= _RPC_MEMBER_LIMIT:
        print(f"error: --members must be 1..{_RPC_MEMBER_LIMIT}", file=sys.stderr)
        sys.exit(2)
    if args.max_users < 1:
        print("error: --max-users must be at least 1", file=sys.stderr)
        sys.exit(2)
    out = score_audience(args.address, args.segment, args.model, members=args.members,
                         max_users=args.max_users, token=args.token)
    print(f"segment {out['segment']!r}: {out['audience_size']:,} customers ({out['logic']})")
    print(f"Score: {out['scored']:,} customers by {out['model']} v{out['version']} in {out['score_seconds']:.3f} s; "
          f"uplift min {out['uplift_min']:+.4f}, mean {out['uplift_mean']:+.4f}, max {out['uplift_max']:+.4f}")
    print(f"SelectTop: {len(out['selected'])} customers to e-mail (budget {args.max_users}); top 5:")
    for user in out["selected"][:5]:
        print(f"  {user['user_id']}  uplift {user['uplift']:+.4f}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
