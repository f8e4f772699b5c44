"""Decision models, one subpackage per domain: experiments, uplift, targeting, allocation."""
