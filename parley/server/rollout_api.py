"""Admin API of the model registry and the rollout (the CLI's `parley models` / `parley
rollout` over HTTP). Each route's permission is declared in `parley.access.policy`
(`models:read`, `models:tag`, `rollout:manage`); changes are written to the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from parley.access.dependencies import route_permission
from parley.access.principal import Principal
from parley.models.guards import PlanError, RolloutPlan
from parley.models.registry import RegistryError
from parley.models.rollout import RolloutError
from parley.models.service import Releases
from parley.server.auth import audit
from parley.server.errors import ApiError
from parley.stores.base import ManagedTrackerStore


class StartRequest(BaseModel):
    candidate: str = Field(description="Version or tag of the model to roll out.")
    percent: float = Field(10.0, ge=0, le=100, description="Share of users on the candidate.")
    control: str | None = Field(None, description="Default: the version tagged production.")
    plan: dict[str, Any] | None = Field(None, description="Auto-steps and guards.")


class StepRequest(BaseModel):
    percent: float = Field(ge=0, le=100)


class ReasonRequest(BaseModel):
    reason: str | None = None


class TagRequest(BaseModel):
    tag: str


def rollout_router(releases: Releases, tracker_store: ManagedTrackerStore) -> APIRouter:
    router = APIRouter(prefix="/admin", tags=["rollout"])
    Caller = Depends(route_permission)

    @router.get("/models", summary="Registered model versions, newest first")
    async def models(caller: Principal = Caller) -> list[dict[str, Any]]:
        return [v.to_json() for v in await releases.registry.list()]

    @router.put("/models/{version}/tags", summary="Tag a model version")
    async def tag(
        version: str, body: TagRequest, request: Request, caller: Principal = Caller
    ) -> dict[str, Any]:
        try:
            await releases.registry.tag(version, body.tag)
            await audit(request, "model_tag", version, {"tag": body.tag})
            return (await releases.registry.get(version)).to_json()
        except RegistryError as exc:
            raise ApiError(404 if "no registered" in str(exc) else 400, str(exc)) from None

    @router.get("/rollout", summary="The rollout in force, per-version metrics, guard verdict")
    async def status(caller: Principal = Caller) -> dict[str, Any]:
        evaluation = await releases.evaluate(tracker_store, apply=False)
        if evaluation is not None:
            return evaluation.to_json()
        current = await releases.rollouts.current()
        return {"experiment": current.to_json() if current else None}

    @router.post("/rollout", status_code=201, summary="Start a rollout")
    async def start(
        body: StartRequest, request: Request, caller: Principal = Caller
    ) -> dict[str, Any]:
        try:
            plan = RolloutPlan.from_json(body.plan) if body.plan else None
            experiment = await releases.start(
                body.candidate, body.percent, body.control, plan, by=caller.name
            )
        except (RolloutError, RegistryError, PlanError) as exc:
            raise ApiError(400, str(exc)) from None
        await audit(request, "rollout_start", experiment.id,
                    {"candidate": experiment.candidate, "percent": experiment.percent})  # fmt: skip
        return experiment.to_json()

    @router.post("/rollout/step", summary="Change the candidate's share")
    async def step(
        body: StepRequest, request: Request, caller: Principal = Caller
    ) -> dict[str, Any]:
        changed = await _change(releases.rollouts.step(body.percent, by=caller.name))
        await audit(request, "rollout_step", changed["id"], {"percent": body.percent})
        return changed

    @router.post("/rollout/promote", summary="Serve the candidate to everyone")
    async def promote(
        body: ReasonRequest, request: Request, caller: Principal = Caller
    ) -> dict[str, Any]:
        changed = await _change(releases.promote(by=caller.name, reason=body.reason))
        await audit(request, "rollout_promote", changed["id"], {"candidate": changed["candidate"]})
        return changed

    @router.post("/rollout/rollback", summary="Back to the control for everyone")
    async def rollback(
        body: ReasonRequest, request: Request, caller: Principal = Caller
    ) -> dict[str, Any]:
        changed = await _change(releases.rollouts.rollback(by=caller.name, reason=body.reason))
        await audit(request, "rollout_rollback", changed["id"], {"reason": body.reason})
        return changed

    return router


async def _change(change: Any) -> dict[str, Any]:
    try:
        experiment = await change
    except RolloutError as exc:
        raise ApiError(409, str(exc)) from None
    result: dict[str, Any] = experiment.to_json()
    return result
