"""The blockchain networks that support tickets talk about, and checks for what customers paste.

Withdrawal and deposit tickets carry a coin, a network, an amount, an address, a memo or tag and a
transaction ID (TXID). This module is the single registry of those networks (``NETWORKS``, the
coins that travel on them in ``COINS``) and of the validators that turn what a customer typed into
one normalised value, or into a ``ValidationError`` that says what went wrong in words they can act
on: a link instead of an ID, an address where a TXID belongs, a testnet address, the wrong network,
a mistyped checksum.

Everything here is pure Python and offline. Checksums (base58check, bech32/bech32m, EIP-55 over a
small Keccak-256) prove that a value was not mistyped; they cannot prove that a transaction or an
address exists. The explorer links built at the bottom let an agent check that.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

Family = Literal["bitcoin", "evm", "tron", "solana", "xrp"]
MemoUse = Literal["required", "optional", "none"]

# Every TXID, address, tag or explorer link we accept is far shorter; refusing longer input before
# any parsing keeps a pasted essay (or a hostile megabyte) cheap to reject.
MAX_INPUT_LENGTH = 200


@dataclass(frozen=True)
class Network:
    """One blockchain network, as customers choose it when they withdraw or deposit."""

    code: str
    name: str
    family: Family
    tx_url: str
    address_url: str
    # XRP's destination tag is optional on the ledger but most exchanges need one to credit a
    # deposit, so it is "optional" here and its value is checked whenever it is given.
    memo: MemoUse = "none"
    # Explorers besides the default one whose links customers paste; the hosts of tx_url and
    # address_url are recognised without being listed.
    extra_explorer_hosts: tuple[str, ...] = ()


NETWORKS: dict[str, Network] = {
    network.code: network
    for network in (
        Network(
            "BTC",
            "Bitcoin",
            "bitcoin",
            "https://mempool.space/tx/{txid}",
            "https://mempool.space/address/{address}",
            extra_explorer_hosts=("blockstream.info",),
        ),
        Network(
            "ERC20",
            "Ethereum (ERC20)",
            "evm",
            "https://etherscan.io/tx/{txid}",
            "https://etherscan.io/address/{address}",
        ),
        Network(
            "BEP20",
            "BNB Smart Chain (BEP20)",
            "evm",
            "https://bscscan.com/tx/{txid}",
            "https://bscscan.com/address/{address}",
        ),
        Network(
            "POLYGON",
            "Polygon",
            "evm",
            "https://polygonscan.com/tx/{txid}",
            "https://polygonscan.com/address/{address}",
        ),
        Network(
            "ARBITRUM",
            "Arbitrum One",
            "evm",
            "https://arbiscan.io/tx/{txid}",
            "https://arbiscan.io/address/{address}",
        ),
        Network(
            "OPTIMISM",
            "Optimism",
            "evm",
            "https://optimistic.etherscan.io/tx/{txid}",
            "https://optimistic.etherscan.io/address/{address}",
        ),
        Network(
            "AVAXC",
            "Avalanche C-Chain",
            "evm",
            "https://snowtrace.io/tx/{txid}",
            "https://snowtrace.io/address/{address}",
        ),
        Network(
            "TRC20",
            "TRON (TRC20)",
            "tron",
            "https://tronscan.org/#/transaction/{txid}",
            "https://tronscan.org/#/address/{address}",
            extra_explorer_hosts=("tronscan.io",),
        ),
        Network(
            "SOL",
            "Solana",
            "solana",
            "https://solscan.io/tx/{txid}",
            "https://solscan.io/account/{address}",
            extra_explorer_hosts=("explorer.solana.com", "solana.fm"),
        ),
        Network(
            "XRP",
            "XRP Ledger",
            "xrp",
            "https://xrpscan.com/tx/{txid}",
            "https://xrpscan.com/account/{address}",
            memo="optional",
            extra_explorer_hosts=("livenet.xrpl.org",),
        ),
    )
}


@dataclass(frozen=True)
class Coin:
    """A coin or token and the network codes it can be withdrawn or deposited on."""

    code: str
    name: str
    networks: tuple[str, ...]


COINS: tuple[Coin, ...] = (
    Coin(
        "USDT",
        "Tether",
        ("ERC20", "TRC20", "BEP20", "SOL", "POLYGON", "ARBITRUM", "OPTIMISM", "AVAXC"),
    ),
    Coin(
        "USDC",
        "USD Coin",
        ("ERC20", "SOL", "BEP20", "POLYGON", "ARBITRUM", "OPTIMISM", "AVAXC"),
    ),
    Coin("BTC", "Bitcoin", ("BTC",)),
    Coin("ETH", "Ether", ("ERC20", "ARBITRUM", "OPTIMISM")),
    Coin("BNB", "BNB", ("BEP20",)),
    Coin("SOL", "Solana", ("SOL",)),
    Coin("TRX", "TRON", ("TRC20",)),
    Coin("XRP", "XRP", ("XRP",)),
)


def network_choices() -> list[tuple[str, str]]:
    """(code, display name) pairs for a form's network field, in registry order."""
    return [(network.code, network.name) for network in NETWORKS.values()]


def coin_choices() -> list[tuple[str, str]]:
    """(code, label) pairs for a form's coin field, e.g. ("USDT", "Tether (USDT)")."""
    return [(coin.code, f"{coin.name} ({coin.code})") for coin in COINS]


def networks_for_coin(coin_code: str) -> list[Network]:
    """The networks a coin travels on (empty for an unknown coin), to check a coin/network pair."""
    for coin in COINS:
        if coin.code == coin_code:
            return [NETWORKS[code] for code in coin.networks]
    return []


# Validators
# ------------------------------------------------------------------------------


def validate_txid(network_code: str, value: str) -> str:
    """Return the normalised transaction ID for ``network_code`` or raise ``ValidationError``.

    A link from that network's explorer is accepted and reduced to the ID it points at.
    """
    network = _get_network(network_code)
    value = _clean(value, "txid")
    if _looks_like_link(value):
        value = _from_explorer_link(network, value, "tx")
    return _check_txid(network, value)


def validate_address(network_code: str, value: str) -> str:
    """Return the normalised address for ``network_code`` or raise ``ValidationError``.

    EVM addresses come back in their EIP-55 checksummed spelling, bech32 addresses in lower case.
    """
    network = _get_network(network_code)
    value = _clean(value, "address")
    if _looks_like_link(value):
        value = _from_explorer_link(network, value, "address")
    return _check_address(network, value)


def validate_memo(network_code: str, value: str) -> str:
    """Return the normalised memo or tag for ``network_code`` ("" when none) or raise."""
    network = _get_network(network_code)
    if len(value) > MAX_INPUT_LENGTH:
        raise ValidationError(
            _("This memo or tag is too long (at most %(max)d characters)."),
            code="too_long",
            params={"max": MAX_INPUT_LENGTH},
        )
    value = value.strip()
    if network.memo == "none":
        if value:
            raise ValidationError(
                _("%(network)s transfers have no memo or tag; please leave this field empty."),
                code="memo_not_used",
                params={"network": network.name},
            )
        return ""
    if not value:
        if network.memo == "required":
            raise ValidationError(
                _("%(network)s transfers need a memo or tag."),
                code="memo_required",
                params={"network": network.name},
            )
        return ""
    if network.family == "xrp":
        return _check_destination_tag(network, value)
    # No other network in the registry has a memo yet; free text is the safe default for one.
    return value


# Explorer links
# ------------------------------------------------------------------------------


def explorer_tx_url(network_code: str, txid: str) -> str | None:
    """The explorer page of a transaction, or None for an unknown network or an empty ID."""
    return _explorer_url(network_code, "tx", "{txid}", txid)


def explorer_address_url(network_code: str, address: str) -> str | None:
    """The explorer page of an address, or None for an unknown network or an empty address."""
    return _explorer_url(network_code, "address", "{address}", address)


def _explorer_url(network_code: str, kind: str, placeholder: str, value: str) -> str | None:
    network = NETWORKS.get(network_code)
    if network is None or not value:
        return None
    template = _template(network, kind)
    if not template:
        return None
    # str.replace, not str.format: a template may contain other braces, and the quoted value
    # cannot add a path segment, query or fragment of its own.
    return template.replace(placeholder, quote(value, safe=""))


def _template(network: Network, kind: str) -> str | None:
    """The URL template in force: settings.TICKET_EXPLORER_URLS first, then the default."""
    override = (getattr(settings, "TICKET_EXPLORER_URLS", None) or {}).get(network.code)
    if isinstance(override, str):
        # A bare string (the shape settings/base.py documents) is the transaction template.
        override = {"tx": override}
    if isinstance(override, dict) and kind in override:
        return override[kind]
    return network.tx_url if kind == "tx" else network.address_url


# Input hygiene and explorer links pasted as values
# ------------------------------------------------------------------------------


def _get_network(network_code: str) -> Network:
    network = NETWORKS.get(network_code) if isinstance(network_code, str) else None
    if network is None:
        raise ValidationError(
            _("Unknown network “%(network)s”."),
            code="unknown_network",
            params={"network": str(network_code)[:20]},
        )
    return network


def _clean(value: str, kind: str) -> str:
    """Refuse over-long, empty and split-up input; return it without surrounding whitespace."""
    if len(value) > MAX_INPUT_LENGTH:
        message = (
            _("This is too long for a transaction ID (at most %(max)d characters).")
            if kind == "txid"
            else _("This is too long for an address (at most %(max)d characters).")
        )
        raise ValidationError(message, code="too_long", params={"max": MAX_INPUT_LENGTH})
    value = value.strip()
    if not value:
        message = (
            _("Please enter the transaction ID.")
            if kind == "txid"
            else _("Please enter the address.")
        )
        raise ValidationError(message, code="required")
    if any(char.isspace() for char in value):
        # Usually a value wrapped across lines in an e-mail or chat; joining the pieces silently
        # could turn two half-pasted values into one plausible but wrong one.
        raise ValidationError(
            _(
                "This contains spaces or line breaks. Please copy it again and paste it as one "
                "piece."
            ),
            code="whitespace",
        )
    return value


def _looks_like_link(value: str) -> bool:
    # No TXID or address contains a slash, so any slash means a link (with or without https://).
    return "/" in value


_TX_SEGMENTS = frozenset({"tx", "transaction", "transactions"})
_ADDRESS_SEGMENTS = frozenset({"address", "account", "accounts"})
# Host labels, path segments and Solana "cluster" values that mean a test network.
_TESTNET_WORDS = frozenset(
    {
        "testnet", "testnet3", "testnet4", "signet", "regtest", "devnet", "sepolia", "goerli",
        "holesky", "hoodi", "nile", "shasta", "amoy", "mumbai", "fuji",
    }
)  # fmt: skip


def _explorer_hosts(network: Network) -> set[str]:
    templates = (
        network.tx_url,
        network.address_url,
        _template(network, "tx"),
        _template(network, "address"),
    )
    hosts = {_host(template) for template in templates if template}
    hosts.update(network.extra_explorer_hosts)
    hosts.discard("")
    return hosts


def _host(url: str) -> str:
    try:
        hostname = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return hostname.removeprefix("www.")


def _from_explorer_link(network: Network, value: str, kind: str) -> str:
    """The TXID or address in a link from this network's explorer, or a precise error."""
    is_tx = kind == "tx"
    try:
        parts = urlsplit(value if "://" in value else f"https://{value}")
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:  # e.g. an unbalanced "[" in the host
        raise _link_error(network, is_tx) from None
    if not host or parts.scheme not in ("http", "https"):
        raise _link_error(network, is_tx)

    # Tronscan keeps its path in the fragment ("#/transaction/…"), so both are searched.
    segments = re.split(r"[/?#&]", f"{parts.path}/{parts.fragment}")
    cluster = parse_qs(parts.query).get("cluster", [""])[0]
    if (
        _TESTNET_WORDS.intersection(host.split("."))
        or _TESTNET_WORDS.intersection(segment.lower() for segment in segments)
        or cluster in _TESTNET_WORDS
    ):
        raise ValidationError(
            _(
                "This link is for a test network. Only %(network)s main-network transactions "
                "can reach your account."
            )
            if is_tx
            else _(
                "This link is for a test network. Only %(network)s main-network addresses can "
                "be used."
            ),
            code="txid_testnet" if is_tx else "address_testnet",
            params={"network": network.name},
        )

    if host not in _explorer_hosts(network):
        other = next((n for n in NETWORKS.values() if host in _explorer_hosts(n)), None)
        if other is not None:
            # The most common costly mistake: a withdrawal sent on another network than chosen.
            raise ValidationError(
                _(
                    "This link is from an explorer for %(other)s, but you chose %(network)s. "
                    "Please check which network the transfer used."
                ),
                code="txid_wrong_network" if is_tx else "address_wrong_network",
                params={"network": network.name, "other": other.name},
            )
        raise _link_error(network, is_tx)

    wanted, unwanted = (
        (_TX_SEGMENTS, _ADDRESS_SEGMENTS) if is_tx else (_ADDRESS_SEGMENTS, _TX_SEGMENTS)
    )
    for position, segment in enumerate(segments[:-1]):
        marker = segment.lower()
        if marker in wanted and segments[position + 1]:
            return unquote(segments[position + 1])
        if marker in unwanted:
            raise _txid_is_address() if is_tx else _address_is_txid()
    raise _link_error(network, is_tx)


def _link_error(network: Network, is_tx: bool) -> ValidationError:
    if is_tx:
        return ValidationError(
            _(
                "Please paste the transaction ID itself, not a link. We recognise links from "
                "the %(network)s explorer only."
            ),
            code="txid_url",
            params={"network": network.name},
        )
    return ValidationError(
        _("Please paste the address itself, not a link."),
        code="address_url",
    )


# Transaction IDs
# ------------------------------------------------------------------------------

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_HEX40 = re.compile(r"[0-9a-fA-F]{40}")


def _check_txid(network: Network, value: str) -> str:
    try:
        return _TXID_CHECKS[network.family](network, value)
    except ValidationError as error:
        if error.code != "txid_format":
            raise
        hint = _txid_hint(network, value)
        if hint is None:
            raise
        raise hint from None


def _txid_hex(network: Network, value: str) -> str:
    """Bitcoin, TRON and XRP Ledger: 64 hex digits, no prefix."""
    if _HEX64.fullmatch(value):
        # Explorers show XRP Ledger hashes in upper case and the others in lower case.
        return value.upper() if network.family == "xrp" else value.lower()
    if value[:2].lower() == "0x" and _HEX64.fullmatch(value[2:]):
        raise ValidationError(
            _(
                "%(network)s transaction IDs have no 0x prefix. IDs starting with 0x come from "
                "Ethereum-style networks: please check that you chose the right network."
            ),
            code="txid_0x_prefix",
            params={"network": network.name},
        )
    raise _hex_format_error(network, value, prefix="")


def _txid_evm(network: Network, value: str) -> str:
    """EVM chains: 0x and 64 hex digits; explorers show them in lower case."""
    if value[:2].lower() == "0x" and _HEX64.fullmatch(value[2:]):
        return "0x" + value[2:].lower()
    if _HEX64.fullmatch(value):
        # Adding the 0x ourselves would hide a TRON or Bitcoin ID filed under the wrong network.
        raise ValidationError(
            _(
                "%(network)s transaction IDs start with 0x. An ID of 64 characters without 0x "
                "usually comes from another network, such as TRON or Bitcoin: please check "
                "which network the transfer used."
            ),
            code="txid_missing_0x",
            params={"network": network.name},
        )
    raise _hex_format_error(network, value, prefix="0x")


def _hex_format_error(network: Network, value: str, prefix: str) -> ValidationError:
    has_prefix = bool(prefix) and value[:2].lower() == prefix
    body = value[2:] if has_prefix else value
    if prefix and not has_prefix:
        message = _("On %(network)s, a transaction ID is 0x followed by 64 characters (0–9, a–f).")
    elif len(body) != 64:
        message = (
            _(
                "On %(network)s, a transaction ID is 0x followed by 64 characters (0–9, a–f); "
                "this one has %(length)d after the 0x."
            )
            if prefix
            else _(
                "On %(network)s, a transaction ID is 64 characters long (0–9, a–f); this one has "
                "%(length)d."
            )
        )
    else:
        message = _(
            "On %(network)s, a transaction ID contains only the digits 0–9 and the letters a–f."
        )
    return ValidationError(
        message, code="txid_format", params={"network": network.name, "length": len(body)}
    )


def _txid_solana(network: Network, value: str) -> str:
    """Solana: a base58 signature of 64 bytes (87 or 88 characters)."""
    raw = _b58decode(value) if 64 <= len(value) <= 90 else None
    if raw is not None and len(raw) == 64:
        return value
    raise ValidationError(
        _(
            "On %(network)s, a transaction signature is 87 or 88 letters and digits (base58); "
            "please copy it again from your wallet or the explorer."
        ),
        code="txid_format",
        params={"network": network.name},
    )


_TXID_CHECKS: dict[str, Callable[[Network, str], str]] = {
    "bitcoin": _txid_hex,
    "evm": _txid_evm,
    "tron": _txid_hex,
    "solana": _txid_solana,
    "xrp": _txid_hex,
}


def _txid_hint(network: Network, value: str) -> ValidationError | None:
    """A more useful error than "wrong format" when the value is recognisably something else."""
    if _address_family(value) is not None:
        return _txid_is_address()
    shape = _txid_shape(value)
    if shape is None or shape == _TXID_SHAPES[network.family]:
        return None
    other = {
        "0x-hex": _("an Ethereum-style network"),
        "hex": _("another network, such as Bitcoin, TRON or XRP Ledger"),
        "base58": "Solana",
    }[shape]
    return ValidationError(
        _(
            "This looks like a transaction ID from %(other)s, but you chose %(network)s. Please "
            "check which network the transfer used."
        ),
        code="txid_wrong_network",
        params={"network": network.name, "other": other},
    )


# The shape of a well-formed transaction ID in each family.
_TXID_SHAPES = {"bitcoin": "hex", "evm": "0x-hex", "tron": "hex", "solana": "base58", "xrp": "hex"}


def _txid_shape(value: str) -> str | None:
    if value[:2].lower() == "0x" and _HEX64.fullmatch(value[2:]):
        return "0x-hex"
    if _HEX64.fullmatch(value):
        return "hex"
    raw = _b58decode(value) if 64 <= len(value) <= 90 else None
    if raw is not None and len(raw) == 64:
        return "base58"
    return None


def _txid_is_address() -> ValidationError:
    return ValidationError(
        _("This looks like an address, not a transaction ID (TXID)."),
        code="txid_is_address",
    )


# Addresses
# ------------------------------------------------------------------------------


def _check_address(network: Network, value: str) -> str:
    try:
        return _ADDRESS_CHECKS[network.family](network, value)
    except ValidationError as error:
        if error.code != "address_format":
            raise
        hint = _address_hint(network, value)
        if hint is None:
            raise
        raise hint from None


def _address_hint(network: Network, value: str) -> ValidationError | None:
    if _txid_shape(value) is not None:
        return _address_is_txid()
    family = _address_family(value)
    if family is None or family == network.family:
        return None
    return ValidationError(
        _(
            "This looks like an address from %(other)s, but you chose %(network)s. Please check "
            "the network: a transfer sent on the wrong network may be lost."
        ),
        code="address_wrong_network",
        params={"network": network.name, "other": _family_name(family)},
    )


def _family_name(family: str) -> str:
    names = {
        "bitcoin": "Bitcoin",
        "evm": _("an Ethereum-style (EVM) network"),
        "tron": "TRON",
        "solana": "Solana",
        "xrp": _("the XRP Ledger"),
    }
    return names[family]


def _address_family(value: str) -> str | None:
    """The family whose address rules ``value`` satisfies, if any (for hints only)."""
    for network in _FAMILY_EXAMPLES.values():
        try:
            _ADDRESS_CHECKS[network.family](network, value)
        except ValidationError:
            continue
        return network.family
    return None


def _address_is_txid() -> ValidationError:
    return ValidationError(
        _("This looks like a transaction ID (TXID), not an address."),
        code="address_is_txid",
    )


def _address_format(network: Network, message: str | None = None) -> ValidationError:
    return ValidationError(
        message or _("This is not a valid %(network)s address."),
        code="address_format",
        params={"network": network.name},
    )


def _address_checksum(network: Network) -> ValidationError:
    return ValidationError(
        _(
            "This %(network)s address fails its checksum, so it may be mistyped. Please copy it "
            "again from the wallet or exchange it came from."
        ),
        code="address_checksum",
        params={"network": network.name},
    )


def _address_testnet(network: Network) -> ValidationError:
    return ValidationError(
        _(
            "This is a testnet address. Test coins have no value and cannot be sent to or from "
            "%(network)s main-network addresses."
        ),
        code="address_testnet",
        params={"network": network.name},
    )


_BTC_MAINNET_VERSIONS = (0x00, 0x05)  # P2PKH "1…", P2SH "3…"
_BTC_TESTNET_VERSIONS = (0x6F, 0xC4)  # P2PKH "m…"/"n…", P2SH "2…"


def _address_bitcoin(network: Network, value: str) -> str:
    lowered = value.lower()
    if lowered.startswith(("tb1", "bcrt1")):
        raise _address_testnet(network)
    if lowered.startswith("bc1"):
        return _address_segwit(network, value)
    raw = _b58decode(value) if 25 <= len(value) <= 35 else None
    if raw is not None and len(raw) == 25:
        payload, checksum_ok = _split_checksum(raw)
        if payload[0] in _BTC_TESTNET_VERSIONS:
            raise _address_testnet(network)
        if payload[0] in _BTC_MAINNET_VERSIONS:
            if not checksum_ok:
                raise _address_checksum(network)
            return value
    raise _address_format(network)


def _address_segwit(network: Network, value: str) -> str:
    """Native segwit per BIP-173 (v0, bech32) and BIP-350 (v1+, bech32m, e.g. taproot)."""
    if value != value.lower() and value != value.upper():
        raise _address_format(network)  # BIP-173 forbids mixed case
    address = value.lower()
    hrp, _separator, data_part = address.rpartition("1")
    if hrp != "bc" or len(data_part) < 7 or len(address) > 90:
        raise _address_format(network)
    if any(char not in _BECH32_CHARSET for char in data_part):
        raise _address_format(network)
    data = [_BECH32_CHARSET.index(char) for char in data_part]
    version = data[0]
    expected = _BECH32_CONST if version == 0 else _BECH32M_CONST
    if _bech32_polymod(_bech32_hrp_expand(hrp) + data) != expected:
        raise _address_checksum(network)
    program = _convert_bits(data[1:-6], 5, 8)
    if (
        version > 16
        or program is None
        or not 2 <= len(program) <= 40
        or (version == 0 and len(program) not in (20, 32))
    ):
        raise _address_format(network)
    return address


def _address_evm(network: Network, value: str) -> str:
    if value[:2].lower() != "0x":
        if _HEX40.fullmatch(value):
            raise _address_format(
                network, _("%(network)s addresses start with 0x followed by 40 characters.")
            )
        raise _address_format(network)
    body = value[2:]
    if not _HEX40.fullmatch(body):
        raise _address_format(network)
    checksummed = _eip55(body)
    # All-lower and all-upper spellings carry no checksum (EIP-55); mixed case must match it.
    if body not in (body.lower(), body.upper()) and body != checksummed:
        raise _address_checksum(network)
    # One spelling per address, the one explorers display, so agents can compare by eye.
    return "0x" + checksummed


def _eip55(hex_body: str) -> str:
    lowered = hex_body.lower()
    digest = keccak256(lowered.encode("ascii")).hex()
    return "".join(
        char.upper() if char.isalpha() and int(digest[i], 16) >= 8 else char
        for i, char in enumerate(lowered)
    )


_TRON_VERSION = 0x41


def _address_tron(network: Network, value: str) -> str:
    if re.fullmatch(r"41[0-9a-fA-F]{40}", value):
        raise _address_format(
            network,
            _("This is a TRON address in hex form. Please use the form that starts with T."),
        )
    raw = _b58decode(value) if len(value) == 34 and value.startswith("T") else None
    if raw is not None and len(raw) == 25:
        payload, checksum_ok = _split_checksum(raw)
        if payload[0] == _TRON_VERSION:
            if not checksum_ok:
                raise _address_checksum(network)
            return value
    raise _address_format(network)


def _address_solana(network: Network, value: str) -> str:
    # A Solana address is an ed25519 public key in base58; it has no checksum to verify.
    raw = _b58decode(value) if 32 <= len(value) <= 44 else None
    if raw is not None and len(raw) == 32:
        return value
    raise _address_format(network)


_XRP_X_ADDRESS_PREFIX = b"\x05\x44"  # main-network X-address (XLS-5d)


def _address_xrp(network: Network, value: str) -> str:
    if value.startswith("X"):
        raw = _b58decode(value, _XRP_ALPHABET)
        if raw is not None and len(raw) == 35 and raw.startswith(_XRP_X_ADDRESS_PREFIX):
            if not _split_checksum(raw)[1]:
                raise _address_checksum(network)
            # An X-address packs the destination tag in, but tickets keep the tag in its own
            # field; asking for the classic form keeps both visible to the customer and agent.
            raise ValidationError(
                _(
                    "This is an X-address. Please enter the classic address (it starts with r) "
                    "and put the destination tag in the tag field."
                ),
                code="address_x_address",
            )
        raise _address_format(network)
    raw = _b58decode(value, _XRP_ALPHABET) if value.startswith("r") else None
    if raw is not None and 25 <= len(value) <= 35 and len(raw) == 25 and raw[0] == 0:
        if not _split_checksum(raw)[1]:
            raise _address_checksum(network)
        return value
    raise _address_format(network)


_ADDRESS_CHECKS: dict[str, Callable[[Network, str], str]] = {
    "bitcoin": _address_bitcoin,
    "evm": _address_evm,
    "tron": _address_tron,
    "solana": _address_solana,
    "xrp": _address_xrp,
}

# One network per family, to run that family's address rules when looking for a hint.
_FAMILY_EXAMPLES: dict[str, Network] = {
    family: next(network for network in NETWORKS.values() if network.family == family)
    for family in _ADDRESS_CHECKS
}


# Memos and tags
# ------------------------------------------------------------------------------

_MAX_DESTINATION_TAG = 2**32 - 1


def _check_destination_tag(network: Network, value: str) -> str:
    # [0-9] rather than str.isdigit(), which also accepts "²" and Arabic-Indic digits.
    if not re.fullmatch(r"[0-9]+", value):
        raise ValidationError(
            _("On %(network)s, a destination tag is a whole number: digits only, no letters."),
            code="memo_format",
            params={"network": network.name},
        )
    tag = int(value)
    if tag > _MAX_DESTINATION_TAG:
        raise ValidationError(
            _("On %(network)s, a destination tag is at most %(max)d."),
            code="memo_range",
            params={"network": network.name, "max": _MAX_DESTINATION_TAG},
        )
    return str(tag)


# Encodings: base58check, bech32/bech32m, Keccak-256
# ------------------------------------------------------------------------------

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# The XRP Ledger uses the same 58 characters in another order.
_XRP_ALPHABET = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
_B58_INDEXES = {
    alphabet: {char: index for index, char in enumerate(alphabet)}
    for alphabet in (_B58_ALPHABET, _XRP_ALPHABET)
}


def _b58decode(value: str, alphabet: str = _B58_ALPHABET) -> bytes | None:
    """Decode base58 (leading "zero" characters are zero bytes), or None for a foreign character."""
    indexes = _B58_INDEXES[alphabet]
    number = 0
    for char in value:
        digit = indexes.get(char)
        if digit is None:
            return None
        number = number * 58 + digit
    zeros = len(value) - len(value.lstrip(alphabet[0]))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _split_checksum(raw: bytes) -> tuple[bytes, bool]:
    """Split base58check bytes into payload and whether the double-SHA-256 checksum matches."""
    payload, checksum = raw[:-4], raw[-4:]
    digest = hashlib.sha256(hashlib.sha256(payload).digest()).digest()
    return payload, digest[:4] == checksum


_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _bech32_polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_BECH32_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _bech32_hrp_expand(hrp: str) -> list[int]:
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def _convert_bits(data: list[int], from_bits: int, to_bits: int) -> bytes | None:
    """Regroup 5-bit words into bytes without padding; None if the padding is invalid."""
    accumulator = 0
    bits = 0
    result = bytearray()
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & ((1 << to_bits) - 1))
    if bits >= from_bits or (accumulator << (to_bits - bits)) & ((1 << to_bits) - 1):
        return None
    return bytes(result)


# Keccak-256 as Ethereum uses it: the original Keccak padding (0x01), not SHA3-256's (0x06), which
# is why hashlib.sha3_256 gives different digests. Lanes are indexed x + 5*y.
_KECCAK_ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
_KECCAK_ROTATIONS = (
    0, 1, 62, 28, 27,
    36, 44, 6, 55, 20,
    3, 10, 43, 25, 39,
    41, 45, 15, 21, 8,
    18, 2, 61, 56, 14,
)  # fmt: skip
_MASK64 = (1 << 64) - 1


def _rotate_left(lane: int, shift: int) -> int:
    return ((lane << shift) | (lane >> (64 - shift))) & _MASK64


def _keccak_f1600(state: list[int]) -> list[int]:
    for round_constant in _KECCAK_ROUND_CONSTANTS:
        # θ: mix each column's parity into its neighbours.
        parity = [
            state[x] ^ state[x + 5] ^ state[x + 10] ^ state[x + 15] ^ state[x + 20]
            for x in range(5)
        ]
        mix = [parity[(x - 1) % 5] ^ _rotate_left(parity[(x + 1) % 5], 1) for x in range(5)]
        state = [lane ^ mix[i % 5] for i, lane in enumerate(state)]
        # ρ and π: rotate each lane and move it to (y, 2x + 3y).
        moved = [0] * 25
        for x in range(5):
            for y in range(5):
                moved[y + 5 * ((2 * x + 3 * y) % 5)] = _rotate_left(
                    state[x + 5 * y], _KECCAK_ROTATIONS[x + 5 * y]
                )
        # χ: the only non-linear step, along each row.
        state = [
            moved[i] ^ (~moved[(i + 1) % 5 + i - i % 5] & moved[(i + 2) % 5 + i - i % 5])
            for i in range(25)
        ]
        # ι
        state[0] ^= round_constant
    return state


def _keccak(data: bytes, padding: int, rate: int = 136, size: int = 32) -> bytes:
    """The Keccak sponge; ``padding`` 0x01 gives Keccak-256, 0x06 gives SHA3-256 (for tests)."""
    padded = bytearray(data)
    padded.append(padding)
    padded.extend(b"\0" * (-len(padded) % rate))
    padded[-1] |= 0x80
    state = [0] * 25
    for offset in range(0, len(padded), rate):
        for i in range(rate // 8):
            start = offset + 8 * i
            state[i] ^= int.from_bytes(padded[start : start + 8], "little")
        state = _keccak_f1600(state)
    return b"".join(lane.to_bytes(8, "little") for lane in state[: rate // 8])[:size]


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 digest of ``data`` (32 bytes)."""
    return _keccak(data, 0x01)
