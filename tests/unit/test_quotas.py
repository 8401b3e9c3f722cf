"""Quota rules: what a deployment holds, and which changes a project's bounds refuse and how they say so."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import Conflict, QuotaExceeded
from chalicelib.domain.models import Autoscaling, DeployedVersion
from chalicelib.domain.quotas import Quota, Usage, check, reserved


def deployed(replicas: int, autoscaling: Autoscaling | None = None) -> DeployedVersion:
    return DeployedVersion(1, 100, replicas, 0.5, 1, autoscaling)


def test_a_deployment_holds_each_versions_size_times_its_replicas() -> None:
    spec = [deployed(2), DeployedVersion(2, 0, 1, 1, 4)]
    assert reserved(spec) == Usage(vcpu=2.0, memory_gb=6, replicas=3)


def test_an_autoscaled_version_holds_its_maximum_so_the_autoscaler_stays_within_the_quota() -> None:
    assert reserved([deployed(1, Autoscaling(1, 4, target_cpu_percent=60))]) == Usage(2.0, 4, 4)


def test_a_change_past_a_bound_names_the_quota_the_use_the_ask_and_what_is_left() -> None:
    with pytest.raises(Conflict) as refused:
        check("pricing", Quota(max_replicas=3), Usage(replicas=2), Usage(), Usage(replicas=2))
    assert refused.value.message == "project pricing has a quota of 3 replicas: 2 in use, 2 more asked, 1 left"
    with pytest.raises(Conflict) as refused:
        check("pricing", Quota(max_vcpu=2), Usage(vcpu=1.5), Usage(vcpu=0.25), Usage(vcpu=1))
    assert refused.value.message == "project pricing has a quota of 2 vCPU: 1.75 in use, 0.75 more asked, 0.25 left"
    with pytest.raises(QuotaExceeded) as refused:  # its own code: quota_exceeded, not a stale revision
        check("pricing", Quota(max_models=1), Usage(models=1), Usage(), Usage(models=1))
    assert refused.value.message == "project pricing has a quota of 1 model: 1 in use, 1 more asked, 0 left"
    assert refused.value.code == "quota_exceeded"


def test_what_fits_exactly_passes_and_a_shrink_always_passes() -> None:
    check("pricing", Quota(max_vcpu=1.5, max_replicas=3), Usage(1.0, 2, 2), Usage(), Usage(0.5, 1, 1))
    # A quota lowered below what runs still lets the project scale down, and keep what it has.
    check("pricing", Quota(max_replicas=1), Usage(replicas=5), Usage(replicas=4), Usage(replicas=2))
    check("pricing", Quota(max_replicas=1), Usage(replicas=5), Usage(replicas=4), Usage(replicas=4))


def test_no_bound_no_check() -> None:
    check("pricing", Quota(), Usage(1e6, 1e6, 10**6, 10**6), Usage(), Usage(1e6, 1e6, 10**6, 1))
