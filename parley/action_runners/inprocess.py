"""Run custom actions inside the Parley server (no HTTP): for small deployments.

The actions are written with `parley.sdk`; the request and reply still go through JSON so
an action sees exactly what it would see behind `parley run actions`, and cannot change
the engine's state by mutating what it was given.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from parley.action_runners.errors import (
    ActionNotRegistered,
    ActionRejected,
    ActionServerError,
    ActionTimeout,
)
from parley.action_runners.protocol import check_reply
from parley.sdk.executor import ActionExecutor
from parley.sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

logger = logging.getLogger(__name__)


class InProcessActionRunner:
    """`CustomActionRunner` over an `ActionExecutor` in this process."""

    def __init__(self, executor: ActionExecutor, timeout: float = 10.0) -> None:
        self.executor = executor
        self.timeout = timeout

    @classmethod
    def from_module(cls, module: str, timeout: float = 10.0) -> InProcessActionRunner:
        """Import `module` (a module or package of parley.sdk actions) and serve its actions."""
        executor = ActionExecutor()
        executor.register_package(module)
        return cls(executor, timeout)

    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = json.loads(json.dumps(payload))
        request["next_action"] = action_name
        try:
            reply = await asyncio.wait_for(self.executor.run(request), self.timeout)
            return check_reply(action_name, json.loads(json.dumps(reply)))
        except ActionExecutionRejection as exc:
            logger.info("custom action '%s' rejected: %s", action_name, exc.message)
            raise ActionRejected(action_name, f"rejected: {exc.message}") from None
        except ActionNotFoundException:
            error: ActionServerError = ActionNotRegistered(
                action_name, "no such action in the in-process actions module"
            )
        except TimeoutError:
            error = ActionTimeout(action_name, f"did not finish within {self.timeout:g}s")
        except ActionServerError as exc:
            error = exc
        except Exception as exc:
            logger.exception("custom action '%s' raised", action_name)
            error = ActionServerError(action_name, f"raised {type(exc).__name__}: {exc}")
        logger.error("%s", error)
        raise error

    async def close(self) -> None:
        return None
