"""RabbitMQ event broker (`type: pika`, aio-pika): a fanout exchange bound to the queues.

Every message carries the event id as its AMQP `message_id` (and in `metadata.event_id` of the
body) so consumers can drop duplicates when events are replayed with `parley export`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # aio-pika loads only when a pika broker is configured (start-up time)
    from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection

from parley.stores.base import EventDict
from parley.stores.broker_sql import broker_message
from parley.stores.codec import event_id_of
from parley.stores.errors import StoreConfigError, StoreError

logger = logging.getLogger(__name__)

DEFAULT_EXCHANGE = "rasa-exchange"
DEFAULT_QUEUE = "rasa_core_events"


@dataclass(frozen=True)
class PikaSettings:
    """Rasa's keys: `url` (host or amqp:// URL), `port`, `username`, `password`, `queues` (or the
    older `queue`), `exchange_name`, `raise_on_failure`."""

    host: str = "localhost"
    port: int = 5672
    username: str = "guest"
    password: str = "guest"
    queues: tuple[str, ...] = (DEFAULT_QUEUE,)
    exchange_name: str = DEFAULT_EXCHANGE
    raise_on_failure: bool = False
    full_url: str | None = None

    @classmethod
    def from_endpoint(cls, section: Mapping[str, Any], where: str) -> PikaSettings:
        url = str(section.get("url") or "localhost")
        queues: Any = section.get("queues", section.get("queue")) or [DEFAULT_QUEUE]
        if isinstance(queues, str):
            queues = [queues]
        if not isinstance(queues, list | tuple) or not all(isinstance(q, str) for q in queues):
            raise StoreConfigError(f"{where}.queues: expected a list of queue names")
        return cls(
            host=url if "://" not in url else "localhost",
            port=int(section.get("port") or 5672),
            username=str(section.get("username") or "guest"),
            password=str(section.get("password") or "guest"),
            queues=tuple(queues),
            exchange_name=str(section.get("exchange_name") or DEFAULT_EXCHANGE),
            raise_on_failure=str(section.get("raise_on_failure", False)).lower() in ("1", "true"),
            full_url=url if "://" in url else None,
        )


class PikaEventBroker:
    """Publishes each event as a persistent JSON message with publisher confirms."""

    def __init__(
        self,
        settings: PikaSettings,
        connection: AbstractRobustConnection,
        channel: AbstractChannel,
        exchange: AbstractExchange,
    ) -> None:
        self.settings = settings
        self._connection = connection
        self._channel = channel
        self._exchange = exchange

    @classmethod
    async def open(cls, settings: PikaSettings) -> PikaEventBroker:
        import aio_pika

        try:
            if settings.full_url is not None:
                connection = await aio_pika.connect_robust(settings.full_url)
            else:
                connection = await aio_pika.connect_robust(
                    host=settings.host,
                    port=settings.port,
                    login=settings.username,
                    password=settings.password,
                )
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.declare_exchange(
                settings.exchange_name, aio_pika.ExchangeType.FANOUT, durable=True
            )
            for name in settings.queues:
                queue = await channel.declare_queue(name, durable=True)
                await queue.bind(exchange)
        except (aio_pika.exceptions.AMQPError, OSError) as exc:
            raise StoreError(
                f"cannot connect to RabbitMQ at {settings.host}:{settings.port}: {exc}; check "
                "event_broker in endpoints.yml and that RabbitMQ is running"
            ) from exc
        return cls(settings, connection, channel, exchange)

    async def publish(self, sender_id: str, events: Sequence[EventDict]) -> None:
        import aio_pika

        try:
            for event in events:
                body = json.dumps(broker_message(sender_id, event), ensure_ascii=False)
                await self._exchange.publish(
                    aio_pika.Message(
                        body.encode("utf-8"),
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=event_id_of(event),
                        headers={"sender_id": sender_id},
                    ),
                    routing_key="",
                )
        except (aio_pika.exceptions.AMQPError, OSError) as exc:
            if self.settings.raise_on_failure:
                raise StoreError(f"publishing events of {sender_id!r} failed: {exc}") from exc
            # The events are stored; `parley export` can publish them again later.
            logger.error("publishing events of %s to RabbitMQ failed: %s", sender_id, exc)

    async def close(self) -> None:
        await self._connection.close()
