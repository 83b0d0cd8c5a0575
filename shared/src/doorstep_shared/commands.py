"""One command path for every service: a command, its handler, and the endpoint that runs it.

- `Command`: a small immutable request to change state, validated at the edge
  (bounded text and numbers, unknown fields refused: a 422 naming the field).
  A command that acts on a resource names it in a field marked `Target`: the
  endpoint fills it from the path, so it is not part of the request body.
- A handler is `async def handle(cmd: SomeCommand, ctx: Context[Deps]) -> CommandResult`,
  registered once in the service's `HandlerRegistry`; the registry finds it by
  the command's type. `Context` carries the unit of work, the actor (None when
  the service itself acts, in a reaction), the service clock's reading and the
  service's typed dependencies.
- `Dispatch` is the FastAPI dependency that runs a command in one transaction
  with idempotency, so an endpoint reads `return await dispatch(body)`.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar, get_type_hints

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from doorstep_shared.auth import CurrentPrincipal, Principal
from doorstep_shared.domain import Forbidden
from doorstep_shared.idempotency import HEADER as IDEMPOTENCY_HEADER
from doorstep_shared.idempotency import MAX_KEY_LENGTH
from doorstep_shared.inputs import MAX_TEXT_LENGTH
from doorstep_shared.inputs import Command as BoundedModel
from doorstep_shared.uow import CommandResult, UnitOfWork

if TYPE_CHECKING:
    from doorstep_shared.runtime import Runtime

D = TypeVar("D")
C = TypeVar("C", bound="Command")


class Command(BoundedModel):
    """Base of every command (and of the request body that carries it)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_max_length=MAX_TEXT_LENGTH, allow_inf_nan=False)

    def targeting(self: C, **targets: str) -> C:
        """The command with its `Target` fields set (from the path)."""
        return self.model_copy(update=targets)


# a field naming the resource a command acts on: taken from the path, never from the body
Target = Annotated[SkipJsonSchema[str], Field(default="", exclude=True)]


@dataclasses.dataclass(frozen=True)
class Context(Generic[D]):
    """What a handler is given besides its command."""

    uow: UnitOfWork
    actor: Principal | None  # None: the service itself (a reaction to another service's event)
    now: datetime
    deps: D

    @property
    def user(self) -> Principal:
        """The signed-in caller; a command only a person may give refuses the service itself."""
        if self.actor is None:
            raise Forbidden("this command is given by a signed-in user")
        return self.actor


Handler = Callable[[Any, Context[Any]], Awaitable[CommandResult]]
TypedHandler = Callable[[C, Context[D]], Awaitable[CommandResult]]


class HandlerRegistry(Generic[D]):
    """The service's handlers, one per command type (read from the first parameter's annotation)."""

    def __init__(self) -> None:
        self._handlers: dict[type[Command], Handler] = {}

    def register(self, fn: TypedHandler[C, D]) -> TypedHandler[C, D]:
        params = list(inspect.signature(fn).parameters)
        command_type = get_type_hints(fn).get(params[0]) if params else None
        if not (isinstance(command_type, type) and issubclass(command_type, Command)):
            raise TypeError(f"handler {fn.__name__}: its first parameter must be annotated with a Command class")
        if command_type in self._handlers:
            raise ValueError(f"{command_type.__name__} already has a handler")
        self._handlers[command_type] = fn
        return fn

    def __getitem__(self, command_type: type[Command]) -> Handler:
        try:
            return self._handlers[command_type]
        except KeyError:
            raise LookupError(f"no handler registered for {command_type.__name__}") from None

    def __contains__(self, command_type: object) -> bool:
        return command_type in self._handlers

    def __iter__(self) -> Iterator[type[Command]]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)


class CommandAccepted(BaseModel):
    """What every command answers (some add fields of their own)."""

    model_config = ConfigDict(extra="allow")

    id: str
    version: int
    position: int = Field(description="Log position; pass as ?after= (or X-After-Position) to read your own write")


class Dispatcher:
    """Runs commands for one request: its caller, its `Idempotency-Key`, its correlation id."""

    def __init__(self, runtime: Runtime, principal: Principal, request: Request) -> None:
        self.runtime = runtime
        self.principal = principal
        self.request = request

    async def __call__(self, cmd: Command, *, status_code: int = 201, retries: int | None = None) -> JSONResponse:
        """Run `cmd`; `retries` (default: the service's `command_retries`) re-runs it after a lost race."""
        runtime = self.runtime
        return await runtime.command(
            runtime.handling(cmd, self.principal),
            principal=self.principal,
            request=self.request,
            payload=cmd.model_dump(mode="json"),
            status_code=status_code,
            retries=runtime.definition.command_retries if retries is None else retries,
        )


async def dispatcher(
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            description=(
                "Any printable string of up to 200 characters, chosen by the client per intended change: "
                "a retry with the same key and body gets the first answer again "
                "(`Idempotent-Replayed: true`), never a second change"
            ),
            json_schema_extra={"maxLength": MAX_KEY_LENGTH},
        ),
    ] = None,
) -> Dispatcher:
    """Dependency: the request's command runner (the key is read, checked and used by the runtime)."""
    return Dispatcher(request.app.state.runtime, principal, request)


Dispatch = Annotated[Dispatcher, Depends(dispatcher)]
