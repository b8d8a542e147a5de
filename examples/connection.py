"""The connection options both examples share: where the broker is and how to reach it.

`--bootstrap` (default `$RANKSTREAM_KAFKA_BOOTSTRAP_SERVERS`, else 127.0.0.1:9092, where `rankstream
dev up` listens) and any librdkafka option as `-X key=value` (for Apache Kafka with SASL/TLS:
`-X security.protocol=SASL_SSL -X sasl.mechanism=PLAIN -X sasl.username=... -X sasl.password=...`).
Topic names default to the worker's defaults and follow the same `RANKSTREAM_TOPIC_*` variables.
"""

import argparse
import os


def topic(name: str, default: str) -> str:
    return os.environ.get(f"RANKSTREAM_TOPIC_{name.upper()}", default)


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    default = os.environ.get("RANKSTREAM_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    parser.add_argument("--bootstrap", default=default, help=f"broker list (default {default})")
    parser.add_argument(
        "-X", dest="options", action="append", default=[], metavar="KEY=VALUE", help="any librdkafka option"
    )


def client_config(args: argparse.Namespace) -> dict[str, str]:
    options = dict(option.split("=", 1) for option in args.options)
    return {"bootstrap.servers": args.bootstrap, **options}
