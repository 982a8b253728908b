"""``RheostatProvider``: the OpenFeature provider over a rheostat ``Client``.

Evaluation is the client's: in-process, lock-free, never raising. The provider translates
contexts, reasons and error codes (``rheostat.openfeature.mapping``), turns the client's
status and change listeners into OpenFeature provider events, and sends ``track`` to the
client's metric windows (``POST /api/v1/client/metrics``).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode as OpenFeatureErrorCode
from openfeature.exception import ProviderNotReadyError
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType
from openfeature.hook import Hook
from openfeature.provider import AbstractProvider, Metadata
from openfeature.track import TrackingEventDetails

from rheostat.flags import FlagSet
from rheostat.openfeature.mapping import Kind, context_of, not_ready, resolution_of
from rheostat.sdk import Client, ClientStatus, FlagsChanged, SyncOptions

__all__ = ["RheostatProvider"]

logger = logging.getLogger("rheostat.openfeature")

PROVIDER_NAME = "rheostat"


class RheostatProvider(AbstractProvider):
    """Evaluate OpenFeature flags with a rheostat ``Client``.

    ``RheostatProvider(client)`` uses a client the application made (and leaves it open on
    ``shutdown``); ``RheostatProvider(flag_set)`` serves a ``FlagSet`` with no server;
    ``RheostatProvider.connect(url=..., api_key=...)`` and ``RheostatProvider.from_file(path)``
    make their own client in ``initialize`` and close it in ``shutdown``.
    """

    def __init__(
        self, source: Client | FlagSet | None = None, *, hooks: Sequence[Hook] = ()
    ) -> None:
        """Wrap ``source`` (a ``Client`` or a ``FlagSet``); ``hooks`` run on every evaluation."""
        super().__init__()
        self._client: Client | None = Client(source) if isinstance(source, FlagSet) else source
        self._factory: Callable[[], Client] | None = None
        self._owns_client = isinstance(source, FlagSet)
        self._hooks = list(hooks)
        self._subscribed: Client | None = None
        self._active = False
        self._lock = threading.Lock()

    @classmethod
    def connect(  # noqa: PLR0913  # the same keyword names as Client
        cls,
        *,
        url: str,
        api_key: str | None = None,
        environment: str | None = None,
        backup_path: str | Path | None = None,
        init_timeout: float = 2.0,
        options: SyncOptions | None = None,
        hooks: Sequence[Hook] = (),
    ) -> RheostatProvider:
        """A provider whose ``initialize`` starts a ``Client`` of the server at ``url``
        (waiting at most ``init_timeout``) and whose ``shutdown`` closes it."""
        factory = functools.partial(
            Client,
            url=url,
            api_key=api_key,
            environment=environment,
            backup_path=backup_path,
            init_timeout=init_timeout,
            options=options,
        )
        return cls._made_by(factory, hooks)

    @classmethod
    def from_file(
        cls, path: str | Path, *, watch: bool = True, hooks: Sequence[Hook] = ()
    ) -> RheostatProvider:
        """A provider of the flags in ``path`` (YAML or JSON), for offline use and tests.

        The file is read in ``initialize``: a file that cannot be read or is not a valid flag
        document makes ``initialize`` fail (the provider's status is then ``ERROR``).
        """
        return cls._made_by(functools.partial(Client.from_file, path, watch=watch), hooks)

    @classmethod
    def _made_by(cls, factory: Callable[[], Client], hooks: Sequence[Hook]) -> RheostatProvider:
        provider = cls(hooks=hooks)
        provider._factory, provider._owns_client = factory, True
        return provider

    @property
    def client(self) -> Client | None:
        """The client evaluations go to (``None`` before ``initialize`` made one)."""
        return self._client

    # Lifecycle --------------------------------------------------------------------------------

    def get_metadata(self) -> Metadata:
        """The provider's name: ``rheostat``."""
        return Metadata(name=PROVIDER_NAME)

    def get_provider_hooks(self) -> list[Hook]:
        """The hooks given to the constructor."""
        return list(self._hooks)

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Make the client if needed and listen to it; fail unless its flags are current.

        Raises:
            ProviderNotReadyError: the server did not answer within ``init_timeout`` (the
                OpenFeature status becomes ``ERROR``, as flagd's provider does; the client
                keeps serving its backup or the defaults and the provider emits ``READY``
                once the server answers).
        """
        with self._lock:
            if self._client is None and self._factory is not None:
                self._client = self._factory()
            client = self._client
            self._active = True
            if client is not None and self._subscribed is not client:
                client.add_status_listener(functools.partial(self._on_status, client))
                client.add_change_listener(functools.partial(self._on_change, client))
                self._subscribed = client
        if client is None:
            raise ProviderNotReadyError("rheostat: the provider has no client")
        if client.status is not ClientStatus.READY:
            raise ProviderNotReadyError(_status_message(client))

    def shutdown(self) -> None:
        """Stop emitting events; close the client if the provider made it."""
        with self._lock:
            self._active = False
            client = self._client
            if self._owns_client and self._factory is not None:
                self._client = None  # a later initialize makes a fresh one
        if client is not None and self._owns_client:
            client.close()

    def _on_status(self, client: Client, status: ClientStatus) -> None:
        if not self._is_current(client):
            return
        if status is ClientStatus.READY:
            self.emit_provider_ready(ProviderEventDetails(metadata=_revision_of(client)))
        elif status is ClientStatus.STALE:
            self.emit_provider_stale(ProviderEventDetails(message=_status_message(client)))
        else:
            self.emit_provider_error(
                ProviderEventDetails(
                    message=_status_message(client), error_code=OpenFeatureErrorCode.GENERAL
                )
            )

    def _on_change(self, client: Client, change: FlagsChanged) -> None:
        if not self._is_current(client):
            return
        self.emit_provider_configuration_changed(
            ProviderEventDetails(
                flags_changed=sorted(change.keys), metadata={"revision": change.revision}
            )
        )

    def _is_current(self, client: Client) -> bool:
        # A client's listeners cannot be removed: a shut-down provider ignores them.
        return self._active and client is self._client

    # Evaluation -------------------------------------------------------------------------------

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """Evaluate a boolean flag (never raises)."""
        return self._resolve(flag_key, default_value, evaluation_context, Kind.BOOLEAN)

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """Evaluate a string flag (never raises)."""
        return self._resolve(flag_key, default_value, evaluation_context, Kind.STRING)

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """Evaluate a number flag as an integer (a fractional value is ``TYPE_MISMATCH``)."""
        return self._resolve(flag_key, default_value, evaluation_context, Kind.INTEGER)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """Evaluate a number flag as a float (never raises)."""
        return self._resolve(flag_key, default_value, evaluation_context, Kind.FLOAT)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        """Evaluate a JSON flag whose value is an object or an array (never raises)."""
        return self._resolve(flag_key, default_value, evaluation_context, Kind.OBJECT)

    def _resolve(
        self, key: str, default: Any, evaluation_context: EvaluationContext | None, kind: Kind
    ) -> FlagResolutionDetails[Any]:
        client = self._client
        if client is None:
            return not_ready(default, {})
        evaluation = client.evaluate(key, context_of(evaluation_context), default)
        metadata = _revision_of(client)
        if evaluation.version is not None:
            metadata["version"] = evaluation.version
        return resolution_of(key, evaluation, default, kind, metadata)

    # Tracking ---------------------------------------------------------------------------------

    def track(
        self,
        tracking_event_name: str,
        evaluation_context: EvaluationContext | None = None,
        tracking_event_details: TrackingEventDetails | None = None,
    ) -> None:
        """``Client.track``: the event counts for the variants the context is served.

        With no ``value`` the event is a trial that succeeded (``True``: an error, a
        conversion); a number is an observation of a mean (a latency). The attribute
        ``flags`` (a list of flag keys) names the flags it counts for (by default those that
        serve a split or keep a ``holdback``). Never raises.
        """
        client = self._client
        if client is None:
            return
        value: float | bool = True
        flags: Iterable[str] | None = None
        if tracking_event_details is not None:
            if tracking_event_details.value is not None:
                value = tracking_event_details.value
            named = tracking_event_details.attributes.get("flags")
            if isinstance(named, list | tuple) and all(isinstance(key, str) for key in named):
                flags = [str(key) for key in named]
        client.track(tracking_event_name, context_of(evaluation_context), value, flags=flags)


def _revision_of(client: Client) -> dict[str, bool | int | float | str]:
    revision = client.revision
    return {} if revision is None else {"revision": revision}


def _status_message(client: Client) -> str:
    detail = client.status_error or "no answer from the server yet"
    return f"rheostat: flags {client.status.value}: {detail}"
