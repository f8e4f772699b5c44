"""``mds.targeting.v1.TargetingService``: demand → logic, audience selection, online eligibility."""
