"""The network registry and the TXID, address and memo checks (pure functions, no database)."""

import hashlib

import pytest
from django.core.exceptions import ValidationError

from tickets import networks
from tickets.networks import (
    COINS,
    MAX_INPUT_LENGTH,
    NETWORKS,
    Network,
    coin_choices,
    explorer_address_url,
    explorer_tx_url,
    keccak256,
    network_choices,
    networks_for_coin,
    validate_address,
    validate_memo,
    validate_txid,
)

EVM_NETWORKS = ["ERC20", "BEP20", "POLYGON", "ARBITRUM", "OPTIMISM", "AVAXC"]

# Real main-network transactions: Bitcoin's genesis coinbase, the first Ether transfer, then
# transactions cited by public wallet test suites.
BTC_TXID = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
ETH_TXID = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
TRON_TXID = "0f89c6365796afa96ae05fab57207a4d8c5cc801b92ac2099c7dd9dcd5a91df0"
SOL_TXID = (
    "2DZEgrPpdwCu2JcQZJCFivcmLSNMHMmDth9ujqFFZ8UeaEX6EqJmFTfZ43c7LgWqu85wiFhqo2h8PukruvpS4g4u"
)
XRP_TXID = "4B9D022E8C77D798B7D11C41FDFDCF468F03A5564151C520EECA1E96FF1A1610"

BTC_GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
TAPROOT = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"  # BIP-350, key = G
USDT_TRC20 = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"  # Tether's TRC20 contract
USDT_ERC20 = "0xdAC17F958D2ee523a2206206994597C13D831ec7"  # Tether's ERC20 contract
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"  # USDC's Solana mint
XRP_GENESIS = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"


def error_of(validator, network_code, value) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validator(network_code, value)
    return caught.value


def flip(value: str, position: int) -> str:
    """``value`` with one character replaced by a neighbour from the same alphabet."""
    char = value[position]
    replacement = {"z": "y", "Z": "Y", "9": "8", "l": "k"}.get(char, chr(ord(char) + 1))
    return value[:position] + replacement + value[position + 1 :]


# Keccak-256
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "digest"),
    [
        (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
        (
            b"The quick brown fox jumps over the lazy dog",
            "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15",
        ),
    ],
)
def test_keccak256_known_vectors(data, digest):
    assert keccak256(data).hex() == digest


def test_keccak256_is_not_sha3_256():
    assert keccak256(b"").hex() != hashlib.sha3_256(b"").hexdigest()


@pytest.mark.parametrize("length", [0, 1, 135, 136, 137, 271, 272, 273, 1000])
def test_the_sponge_with_sha3_padding_matches_hashlib_across_block_boundaries(length):
    # Same permutation and absorption as SHA3-256, which hashlib can check for any length;
    # Keccak-256 differs only in the padding byte, pinned by the vectors above.
    data = bytes(i % 251 for i in range(length))
    assert networks._keccak(data, 0x06) == hashlib.sha3_256(data).digest()


# Registry
# ------------------------------------------------------------------------------


def test_every_network_is_keyed_by_its_code_with_usable_templates():
    assert set(NETWORKS) == {
        "BTC", "ERC20", "BEP20", "POLYGON", "ARBITRUM", "OPTIMISM", "AVAXC", "TRC20", "SOL", "XRP",
    }  # fmt: skip
    for code, network in NETWORKS.items():
        assert network.code == code
        assert network.family in {"bitcoin", "evm", "tron", "solana", "xrp"}
        assert network.memo in {"required", "optional", "none"}
        assert network.tx_url.startswith("https://") and "{txid}" in network.tx_url
        assert network.address_url.startswith("https://") and "{address}" in network.address_url


def test_network_is_frozen():
    with pytest.raises(AttributeError):
        NETWORKS["BTC"].name = "Bitcoin Cash"


def test_only_xrp_uses_a_tag():
    assert {code for code, network in NETWORKS.items() if network.memo != "none"} == {"XRP"}
    assert NETWORKS["XRP"].memo == "optional"


def test_network_choices_pair_code_and_name_in_registry_order():
    choices = network_choices()
    assert [code for code, _name in choices] == list(NETWORKS)
    assert ("TRC20", "TRON (TRC20)") in choices


def test_every_coin_travels_on_registered_networks():
    for coin in COINS:
        assert coin.networks, coin.code
        assert set(coin.networks) <= set(NETWORKS), coin.code
    codes = {coin.code for coin in COINS}
    assert codes >= {"USDT", "USDC", "BTC", "ETH", "XRP", "SOL", "TRX", "BNB"}


def test_coin_choices_and_networks_for_coin():
    assert ("USDT", "Tether (USDT)") in coin_choices()
    assert [network.code for network in networks_for_coin("ETH")] == [
        "ERC20",
        "ARBITRUM",
        "OPTIMISM",
    ]
    assert {"ERC20", "TRC20", "BEP20", "SOL", "POLYGON"} <= {
        network.code for network in networks_for_coin("USDT")
    }
    assert networks_for_coin("BNB") == [NETWORKS["BEP20"]]
    assert networks_for_coin("DOGE") == []


# Addresses: valid
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "normalised"),
    [
        (BTC_GENESIS, BTC_GENESIS),  # P2PKH
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),  # P2SH
        ("3LRW7jeCvQCRdPF8S3yUCfRAx4eqXFmdcr", "3LRW7jeCvQCRdPF8S3yUCfRAx4eqXFmdcr"),  # P2SH
        (
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        ),
        # BIP-173: upper case is valid (QR codes) and comes back in lower case.
        (
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        ),
        (  # P2WSH, 32-byte program
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
        ),
        (TAPROOT, TAPROOT),
        # BIP-350 vectors for future witness versions.
        (
            "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
            "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        ),
        ("BC1SW50QGDZ25J", "bc1sw50qgdz25j"),
        ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"),
    ],
)
def test_valid_bitcoin_addresses(address, normalised):
    assert validate_address("BTC", address) == normalised


EIP55_VECTORS = [
    # All caps
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    # All lower
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    # Normal
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("network_code", EVM_NETWORKS)
@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_the_eip55_vectors_are_valid_on_every_evm_network(network_code, address):
    result = validate_address(network_code, address)
    assert result.lower() == address.lower()


@pytest.mark.parametrize(
    "address",
    [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        USDT_ERC20,
    ],
)
def test_evm_addresses_come_back_in_their_checksummed_spelling(address):
    assert validate_address("ERC20", address.lower()) == address
    assert validate_address("ERC20", "0x" + address[2:].upper()) == address
    assert validate_address("ERC20", address) == address


@pytest.mark.parametrize(
    "address",
    [
        USDT_TRC20,
        "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb",  # TRON's all-zero "black hole" address
    ],
)
def test_valid_tron_addresses(address):
    assert validate_address("TRC20", address) == address


@pytest.mark.parametrize(
    "address",
    [
        "11111111111111111111111111111111",  # System Program (32 zero bytes)
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",  # SPL Token Program
        "So11111111111111111111111111111111111111112",  # wrapped SOL mint
        USDC_MINT,
        "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB",  # USDT mint
    ],
)
def test_valid_solana_addresses(address):
    assert validate_address("SOL", address) == address


@pytest.mark.parametrize(
    "address",
    [
        XRP_GENESIS,
        "rrrrrrrrrrrrrrrrrrrrrhoLvTp",  # ACCOUNT_ZERO, 27 characters
        "rrrrrrrrrrrrrrrrrrrrBZbvji",  # ACCOUNT_ONE, 26 characters
        "rrrrrrrrrrrrrrrrrNAMEtxvNvQ",  # the black-hole address
        "rGWrZyQqhTp9Xu7G5Pkayo7bXjH4k4QYpf",
    ],
)
def test_valid_xrp_addresses(address):
    assert validate_address("XRP", address) == address


def test_surrounding_whitespace_is_removed():
    assert validate_address("BTC", f"  \n{BTC_GENESIS}\t ") == BTC_GENESIS
    assert validate_txid("TRC20", f"\n{TRON_TXID}\n") == TRON_TXID


# Addresses: invalid
# ------------------------------------------------------------------------------


BIP350_V1_WITH_BECH32 = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd"
BIP350_V16_WITH_BECH32 = "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL"


@pytest.mark.parametrize(
    ("network_code", "address", "code"),
    [
        # Bitcoin: BIP-350 invalid vectors and other broken shapes.
        # v1 and v16 with a bech32 checksum, v0 with a bech32m one:
        ("BTC", BIP350_V1_WITH_BECH32, "address_checksum"),
        ("BTC", BIP350_V16_WITH_BECH32, "address_checksum"),
        ("BTC", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "address_checksum"),
        ("BTC", "bc1gmk9yu", "address_format"),  # empty data part
        ("BTC", "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "address_format"),  # v0, 16-byte program
        ("BTC", "bc1qar0srrr7xfkvy5l643lydnw9re59GTZZWF5MDQ", "address_format"),  # mixed case
        ("BTC", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp", "address_checksum"),
        ("BTC", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdo", "address_format"),  # "o" not bech32
        ("BTC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", "address_format"),  # "0" not base58
        ("BTC", "1A1zP1eP5QGefi2DMPTfTL5S", "address_format"),
        ("BTC", "ltc1qg82l5j3wh6x5ht6ydxqh4hwsr0xcl4pflrk9jr", "address_format"),
        # EVM
        ("ERC20", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "address_checksum"),
        ("ERC20", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", "address_format"),  # 39 hex
        ("ERC20", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd", "address_format"),  # 41 hex
        ("ERC20", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "address_format"),
        ("ERC20", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "address_format"),  # no 0x
        ("BEP20", "vitalik.eth", "address_format"),
        # TRON
        ("TRC20", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T", "address_checksum"),
        ("TRC20", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6", "address_format"),  # 33 characters
        ("TRC20", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "address_format"),  # hex form
        # Solana: base58, but not 32 bytes. (With no checksum, a dropped last character often
        # still decodes to 32 bytes: only the explorer can tell.)
        ("SOL", USDC_MINT[:-3], "address_format"),
        ("SOL", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1vv", "address_format"),
        ("SOL", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt10", "address_format"),
        # XRP
        ("XRP", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTH", "address_checksum"),
        ("XRP", "rHb9CJAWyB4rj91VRWn96DkukG4bwdty", "address_format"),
        ("XRP", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTl", "address_format"),  # "l" not in alphabet
        ("XRP", "X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cqY", "address_checksum"),
    ],
)
def test_invalid_addresses(network_code, address, code):
    assert error_of(validate_address, network_code, address).code == code


@pytest.mark.parametrize(
    ("network_code", "address", "position"),
    [
        ("BTC", BTC_GENESIS, 10),
        ("BTC", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", 20),
        ("BTC", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 15),
        ("BTC", TAPROOT, 30),
        ("TRC20", USDT_TRC20, 12),
        ("XRP", XRP_GENESIS, 8),
    ],
)
def test_one_mistyped_character_fails_the_checksum(network_code, address, position):
    mistyped = flip(address, position)
    assert mistyped != address
    assert error_of(validate_address, network_code, mistyped).code == "address_checksum"


@pytest.mark.parametrize("address", EIP55_VECTORS[4:])
def test_one_wrong_capital_fails_the_eip55_checksum(address):
    position = next(i for i, char in enumerate(address[2:], start=2) if char.isalpha())
    mistyped = address[:position] + address[position].swapcase() + address[position + 1 :]
    error = error_of(validate_address, "ERC20", mistyped)
    assert error.code == "address_checksum"
    assert "mistyped" in error.messages[0]


@pytest.mark.parametrize(
    "address",
    [
        "mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r",  # testnet P2PKH
        "2NByiBUaEXrhmqAsg7BbLpcQSAQs1EDwt5w",  # testnet P2SH
        "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",  # testnet P2WPKH (BIP-173)
        "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47zagq",  # testnet taproot
        "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",  # regtest
    ],
)
def test_bitcoin_testnet_addresses_are_refused_as_such(address):
    error = error_of(validate_address, "BTC", address)
    assert error.code == "address_testnet"
    assert "testnet" in error.messages[0]


@pytest.mark.parametrize(
    "x_address",
    [
        "X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cqZ",  # no tag
        "X7AcgcsBL6XDcUb289X4mJ8djcdyKaGZMhc9YTE92ehJ2Fu",  # tag 1
    ],
)
def test_an_xrp_x_address_asks_for_the_classic_address_and_a_tag(x_address):
    # The xrpl.js vectors pack r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59, which is valid on its own.
    classic = "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59"
    assert validate_address("XRP", classic) == classic
    x_payload = networks._b58decode(x_address, networks._XRP_ALPHABET)
    classic_payload = networks._b58decode(classic, networks._XRP_ALPHABET)
    assert x_payload[2:22] == classic_payload[1:21]

    error = error_of(validate_address, "XRP", x_address)
    assert error.code == "address_x_address"
    assert "destination tag" in error.messages[0]


@pytest.mark.parametrize(
    ("network_code", "address", "other"),
    [
        ("ERC20", USDT_TRC20, "TRON"),
        ("BEP20", BTC_GENESIS, "Bitcoin"),
        ("TRC20", USDT_ERC20, "Ethereum-style"),
        ("SOL", USDT_TRC20, "TRON"),
        ("BTC", USDC_MINT, "Solana"),
        ("BTC", XRP_GENESIS, "XRP Ledger"),
        ("XRP", TAPROOT, "Bitcoin"),
    ],
)
def test_an_address_of_another_network_says_so(network_code, address, other):
    error = error_of(validate_address, network_code, address)
    assert error.code == "address_wrong_network"
    assert other in error.messages[0]
    assert NETWORKS[network_code].name in error.messages[0]


@pytest.mark.parametrize(
    ("network_code", "txid"),
    [("ERC20", ETH_TXID), ("BTC", BTC_TXID), ("TRC20", TRON_TXID), ("SOL", SOL_TXID)],
)
def test_a_txid_in_the_address_field_says_so(network_code, txid):
    error = error_of(validate_address, network_code, txid)
    assert error.code == "address_is_txid"
    assert "not an address" in error.messages[0]


# Transaction IDs
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network_code", "txid", "normalised"),
    [
        ("BTC", BTC_TXID, BTC_TXID),
        ("BTC", BTC_TXID.upper(), BTC_TXID),
        ("TRC20", TRON_TXID, TRON_TXID),
        ("SOL", SOL_TXID, SOL_TXID),
        (
            "SOL",
            "5y8mMKQzcyqdC2Ch7zY9jgatamoSPQN8c5z3Yyfokt6ojfRzaGWTVArWjZ8aptPSTiJUs6ahYzQyUncFHffzFwwy",
            "5y8mMKQzcyqdC2Ch7zY9jgatamoSPQN8c5z3Yyfokt6ojfRzaGWTVArWjZ8aptPSTiJUs6ahYzQyUncFHffzFwwy",
        ),
        # XRP Ledger hashes are shown in upper case by explorers and rippled.
        ("XRP", XRP_TXID.lower(), XRP_TXID),
        *[(code, ETH_TXID, ETH_TXID) for code in EVM_NETWORKS],
        ("ERC20", "0x" + ETH_TXID[2:].upper(), ETH_TXID),
    ],
)
def test_valid_txids(network_code, txid, normalised):
    assert validate_txid(network_code, txid) == normalised


@pytest.mark.parametrize(
    ("network_code", "txid", "code"),
    [
        ("BTC", BTC_TXID[:-1], "txid_format"),
        ("BTC", BTC_TXID + "a", "txid_format"),
        ("BTC", BTC_TXID[:-1] + "g", "txid_format"),
        ("XRP", "not-a-hash", "txid_format"),
        ("ERC20", ETH_TXID[:-1], "txid_format"),
        ("ERC20", ETH_TXID[:-1] + "z", "txid_format"),
        ("ERC20", "hello", "txid_format"),
        ("SOL", SOL_TXID[:-10], "txid_format"),
        ("SOL", SOL_TXID[:-1] + "0", "txid_format"),  # "0" is not base58
    ],
)
def test_malformed_txids(network_code, txid, code):
    assert error_of(validate_txid, network_code, txid).code == code


def test_a_txid_of_the_wrong_length_says_how_long_it_is():
    error = error_of(validate_txid, "BTC", BTC_TXID[:-1])
    assert "63" in error.messages[0]
    assert "Bitcoin" in error.messages[0]


def test_an_evm_txid_on_tron_says_tron_ids_have_no_0x_prefix():
    error = error_of(validate_txid, "TRC20", "0x" + TRON_TXID)
    assert error.code == "txid_0x_prefix"
    assert "TRON (TRC20) transaction IDs have no 0x prefix" in error.messages[0]


@pytest.mark.parametrize("network_code", ["BTC", "XRP"])
def test_other_hex_networks_refuse_0x_too(network_code):
    assert error_of(validate_txid, network_code, ETH_TXID).code == "txid_0x_prefix"


def test_a_tron_txid_on_an_evm_network_is_not_silently_given_a_0x():
    error = error_of(validate_txid, "ERC20", TRON_TXID)
    assert error.code == "txid_missing_0x"
    assert "start with 0x" in error.messages[0]


@pytest.mark.parametrize(
    ("network_code", "txid"),
    [("BTC", SOL_TXID), ("ERC20", SOL_TXID), ("SOL", TRON_TXID), ("SOL", ETH_TXID)],
)
def test_a_txid_of_another_family_says_wrong_network(network_code, txid):
    assert error_of(validate_txid, network_code, txid).code == "txid_wrong_network"


@pytest.mark.parametrize(
    ("network_code", "address"),
    [
        ("BTC", BTC_GENESIS),
        ("BTC", TAPROOT),
        ("ERC20", USDT_ERC20),
        ("TRC20", USDT_TRC20),
        ("SOL", USDC_MINT),
        ("XRP", XRP_GENESIS),
        ("TRC20", BTC_GENESIS),  # any network's address, not only the chosen one's
    ],
)
def test_an_address_in_the_txid_field_says_so(network_code, address):
    error = error_of(validate_txid, network_code, address)
    assert error.code == "txid_is_address"
    assert "this looks like an address, not a transaction id" in error.messages[0].lower()


# Pasted explorer links
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network_code", "link", "txid"),
    [
        ("BTC", f"https://mempool.space/tx/{BTC_TXID}", BTC_TXID),
        ("BTC", f"https://blockstream.info/tx/{BTC_TXID}?expand", BTC_TXID),
        ("ERC20", f"https://etherscan.io/tx/{ETH_TXID}", ETH_TXID),
        ("ERC20", f"https://www.etherscan.io/tx/{ETH_TXID}#eventlog", ETH_TXID),
        ("ERC20", f"etherscan.io/tx/{ETH_TXID}", ETH_TXID),  # copied without the scheme
        ("BEP20", f"https://bscscan.com/tx/{ETH_TXID}", ETH_TXID),
        ("POLYGON", f"https://polygonscan.com/tx/{ETH_TXID}", ETH_TXID),
        ("ARBITRUM", f"https://arbiscan.io/tx/{ETH_TXID}", ETH_TXID),
        ("OPTIMISM", f"https://optimistic.etherscan.io/tx/{ETH_TXID}", ETH_TXID),
        ("AVAXC", f"https://snowtrace.io/tx/{ETH_TXID}", ETH_TXID),
        ("TRC20", f"https://tronscan.org/#/transaction/{TRON_TXID}", TRON_TXID),
        ("TRC20", f"https://tronscan.org/#/transaction/{TRON_TXID}/event-logs", TRON_TXID),
        ("SOL", f"https://solscan.io/tx/{SOL_TXID}", SOL_TXID),
        ("SOL", f"https://explorer.solana.com/tx/{SOL_TXID}", SOL_TXID),
        ("SOL", f"https://explorer.solana.com/tx/{SOL_TXID}?cluster=mainnet-beta", SOL_TXID),
        ("XRP", f"https://xrpscan.com/tx/{XRP_TXID}", XRP_TXID),
        ("XRP", f"https://livenet.xrpl.org/transactions/{XRP_TXID.lower()}", XRP_TXID),
    ],
)
def test_a_link_from_the_networks_explorer_becomes_its_txid(network_code, link, txid):
    assert validate_txid(network_code, link) == txid


@pytest.mark.parametrize(
    ("network_code", "link", "address"),
    [
        ("BTC", f"https://mempool.space/address/{TAPROOT}", TAPROOT),
        ("ERC20", f"https://etherscan.io/address/{USDT_ERC20.lower()}", USDT_ERC20),
        ("TRC20", f"https://tronscan.org/#/address/{USDT_TRC20}", USDT_TRC20),
        ("SOL", f"https://solscan.io/account/{USDC_MINT}", USDC_MINT),
        ("XRP", f"https://xrpscan.com/account/{XRP_GENESIS}", XRP_GENESIS),
    ],
)
def test_a_link_from_the_networks_explorer_becomes_its_address(network_code, link, address):
    assert validate_address(network_code, link) == address


def test_a_link_from_another_networks_explorer_names_both_networks():
    error = error_of(validate_txid, "BEP20", f"https://etherscan.io/tx/{ETH_TXID}")
    assert error.code == "txid_wrong_network"
    assert "Ethereum (ERC20)" in error.messages[0]
    assert "BNB Smart Chain (BEP20)" in error.messages[0]
    error = error_of(validate_address, "TRC20", f"https://etherscan.io/address/{USDT_ERC20}")
    assert error.code == "address_wrong_network"


@pytest.mark.parametrize(
    "link",
    [
        f"https://example.com/tx/{ETH_TXID}",
        f"https://sepolia-explorer.example/{ETH_TXID}",
        "https://etherscan.io/",
        f"ftp://etherscan.io/tx/{ETH_TXID}",
        "https://[etherscan.io/tx/",
    ],
)
def test_other_links_ask_for_the_txid_itself(link):
    error = error_of(validate_txid, "ERC20", link)
    assert error.code == "txid_url"
    assert "not a link" in error.messages[0]


def test_an_address_field_refuses_other_links():
    assert error_of(validate_address, "ERC20", "https://example.com/x").code == "address_url"


@pytest.mark.parametrize(
    ("network_code", "link"),
    [
        ("BTC", f"https://mempool.space/testnet/tx/{BTC_TXID}"),
        ("BTC", f"https://blockstream.info/testnet/tx/{BTC_TXID}"),
        ("ERC20", f"https://sepolia.etherscan.io/tx/{ETH_TXID}"),
        ("BEP20", f"https://testnet.bscscan.com/tx/{ETH_TXID}"),
        ("TRC20", f"https://nile.tronscan.org/#/transaction/{TRON_TXID}"),
        ("SOL", f"https://explorer.solana.com/tx/{SOL_TXID}?cluster=devnet"),
        ("SOL", f"https://solscan.io/tx/{SOL_TXID}?cluster=testnet"),
    ],
)
def test_test_network_links_are_refused_as_such(network_code, link):
    assert error_of(validate_txid, network_code, link).code == "txid_testnet"


def test_an_address_link_in_the_txid_field_and_the_other_way_round():
    link = f"https://etherscan.io/address/{USDT_ERC20}"
    assert error_of(validate_txid, "ERC20", link).code == "txid_is_address"
    link = f"https://etherscan.io/tx/{ETH_TXID}"
    assert error_of(validate_address, "ERC20", link).code == "address_is_txid"


def test_a_link_to_a_malformed_txid_is_checked_like_the_txid():
    link = f"https://etherscan.io/tx/{ETH_TXID[:-2]}"
    assert error_of(validate_txid, "ERC20", link).code == "txid_format"


# Input hygiene
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("validator", [validate_txid, validate_address, validate_memo])
def test_an_unknown_network_is_refused(validator):
    error = error_of(validator, "DOGE", "anything")
    assert error.code == "unknown_network"
    assert "DOGE" in error.messages[0]


@pytest.mark.parametrize("validator", [validate_txid, validate_address, validate_memo])
def test_huge_input_is_refused_before_it_is_parsed(validator):
    assert error_of(validator, "XRP", "1" * 1_000_000).code == "too_long"
    assert error_of(validator, "XRP", " " * (MAX_INPUT_LENGTH + 1)).code == "too_long"


@pytest.mark.parametrize("validator", [validate_txid, validate_address])
@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_empty_input_is_required(validator, value):
    assert error_of(validator, "BTC", value).code == "required"


@pytest.mark.parametrize(
    ("validator", "network_code", "value"),
    [
        (validate_txid, "BTC", BTC_TXID[:32] + "\n" + BTC_TXID[32:]),
        (validate_txid, "ERC20", ETH_TXID[:10] + " " + ETH_TXID[10:]),
        (validate_txid, "SOL", SOL_TXID[:40] + "\u3000" + SOL_TXID[40:]),  # ideographic space
        (validate_address, "TRC20", USDT_TRC20[:17] + "\r\n" + USDT_TRC20[17:]),
    ],
)
def test_whitespace_inside_asks_for_one_piece(validator, network_code, value):
    error = error_of(validator, network_code, value)
    assert error.code == "whitespace"
    assert "one piece" in error.messages[0]


# Memos and destination tags
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [("", ""), ("  ", ""), ("0", "0"), ("123456", "123456"), (" 42 ", "42"), ("007", "7")],
)
def test_xrp_destination_tags(value, normalised):
    assert validate_memo("XRP", value) == normalised


def test_the_largest_destination_tag_is_accepted_and_one_more_is_not():
    assert validate_memo("XRP", "4294967295") == "4294967295"
    assert error_of(validate_memo, "XRP", "4294967296").code == "memo_range"
    assert error_of(validate_memo, "XRP", "9" * 30).code == "memo_range"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "1e3", "12 34", "١٢٣", "²", "+5"])
def test_a_destination_tag_is_digits_only(value):
    assert error_of(validate_memo, "XRP", value).code == "memo_format"


@pytest.mark.parametrize("network_code", ["BTC", "ERC20", "TRC20", "SOL"])
def test_networks_without_memos_accept_only_an_empty_one(network_code):
    assert validate_memo(network_code, "") == ""
    assert validate_memo(network_code, "  ") == ""
    error = error_of(validate_memo, network_code, "12345")
    assert error.code == "memo_not_used"
    assert NETWORKS[network_code].name in error.messages[0]


def test_a_network_that_requires_a_memo(monkeypatch):
    monkeypatch.setitem(
        NETWORKS,
        "XLM",
        Network(
            "XLM",
            "Stellar",
            "bitcoin",  # the family only matters for address and TXID rules here
            "https://stellar.expert/explorer/public/tx/{txid}",
            "https://stellar.expert/explorer/public/account/{address}",
            memo="required",
        ),
    )
    assert error_of(validate_memo, "XLM", " ").code == "memo_required"
    assert validate_memo("XLM", " hello ") == "hello"


# Explorer links built for agents
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network_code", "txid", "url"),
    [
        ("BTC", BTC_TXID, f"https://mempool.space/tx/{BTC_TXID}"),
        ("ERC20", ETH_TXID, f"https://etherscan.io/tx/{ETH_TXID}"),
        ("BEP20", ETH_TXID, f"https://bscscan.com/tx/{ETH_TXID}"),
        ("POLYGON", ETH_TXID, f"https://polygonscan.com/tx/{ETH_TXID}"),
        ("ARBITRUM", ETH_TXID, f"https://arbiscan.io/tx/{ETH_TXID}"),
        ("OPTIMISM", ETH_TXID, f"https://optimistic.etherscan.io/tx/{ETH_TXID}"),
        ("AVAXC", ETH_TXID, f"https://snowtrace.io/tx/{ETH_TXID}"),
        ("TRC20", TRON_TXID, f"https://tronscan.org/#/transaction/{TRON_TXID}"),
        ("SOL", SOL_TXID, f"https://solscan.io/tx/{SOL_TXID}"),
        ("XRP", XRP_TXID, f"https://xrpscan.com/tx/{XRP_TXID}"),
    ],
)
def test_explorer_tx_urls(network_code, txid, url):
    assert explorer_tx_url(network_code, txid) == url


@pytest.mark.parametrize(
    ("network_code", "address", "url"),
    [
        ("BTC", TAPROOT, f"https://mempool.space/address/{TAPROOT}"),
        ("ERC20", USDT_ERC20, f"https://etherscan.io/address/{USDT_ERC20}"),
        ("TRC20", USDT_TRC20, f"https://tronscan.org/#/address/{USDT_TRC20}"),
        ("SOL", USDC_MINT, f"https://solscan.io/account/{USDC_MINT}"),
        ("XRP", XRP_GENESIS, f"https://xrpscan.com/account/{XRP_GENESIS}"),
    ],
)
def test_explorer_address_urls(network_code, address, url):
    assert explorer_address_url(network_code, address) == url


def test_the_inserted_value_is_url_quoted():
    assert (
        explorer_tx_url("ERC20", "a/b?c=d#e f") == "https://etherscan.io/tx/a%2Fb%3Fc%3Dd%23e%20f"
    )
    assert explorer_address_url("SOL", "../x") == "https://solscan.io/account/..%2Fx"


def test_no_url_for_an_unknown_network_or_an_empty_value():
    assert explorer_tx_url("DOGE", BTC_TXID) is None
    assert explorer_address_url("DOGE", BTC_GENESIS) is None
    assert explorer_tx_url("BTC", "") is None
    assert explorer_address_url("BTC", "") is None


def test_settings_override_the_explorer_templates(settings):
    settings.TICKET_EXPLORER_URLS = {
        "ERC20": {
            "tx": "https://eth.blockscout.com/tx/{txid}",
            "address": "https://eth.blockscout.com/address/{address}",
        },
        "BTC": {"tx": "https://blockstream.info/tx/{txid}"},  # address keeps its default
        "XRP": {"tx": "", "address": ""},  # no links at all
    }
    assert explorer_tx_url("ERC20", ETH_TXID) == f"https://eth.blockscout.com/tx/{ETH_TXID}"
    assert explorer_address_url("ERC20", USDT_ERC20) == (
        f"https://eth.blockscout.com/address/{USDT_ERC20}"
    )
    assert explorer_tx_url("BTC", BTC_TXID) == f"https://blockstream.info/tx/{BTC_TXID}"
    assert explorer_address_url("BTC", TAPROOT) == f"https://mempool.space/address/{TAPROOT}"
    assert explorer_tx_url("XRP", XRP_TXID) is None
    assert explorer_address_url("XRP", XRP_GENESIS) is None
    assert explorer_tx_url("SOL", SOL_TXID) == f"https://solscan.io/tx/{SOL_TXID}"


def test_a_bare_string_override_is_the_transaction_template(settings):
    settings.TICKET_EXPLORER_URLS = {"ERC20": "https://eth.blockscout.com/tx/{txid}"}
    assert explorer_tx_url("ERC20", ETH_TXID) == f"https://eth.blockscout.com/tx/{ETH_TXID}"
    assert explorer_address_url("ERC20", USDT_ERC20) == f"https://etherscan.io/address/{USDT_ERC20}"


def test_links_from_an_overriding_explorer_are_recognised(settings):
    settings.TICKET_EXPLORER_URLS = {"ERC20": {"tx": "https://eth.blockscout.com/tx/{txid}"}}
    assert validate_txid("ERC20", f"https://eth.blockscout.com/tx/{ETH_TXID}") == ETH_TXID
    # The default explorer still counts: customers paste what they have.
    assert validate_txid("ERC20", f"https://etherscan.io/tx/{ETH_TXID}") == ETH_TXID


def test_no_setting_at_all(settings):
    del settings.TICKET_EXPLORER_URLS
    assert explorer_tx_url("BTC", BTC_TXID) == f"https://mempool.space/tx/{BTC_TXID}"
