from __future__ import annotations

import io
import tarfile

import pytest

from shared.bundle import (
    BundleFormatError,
    BundleIntegrityError,
    BundleSignatureError,
    canonical_manifest_bytes,
    decode_signature,
    encode_signature,
    generate_signing_key,
    key_id,
    load_private_key,
    load_public_key,
    open_bundle,
    open_bundle_dir,
    pack_bundle,
    private_key_pem,
    public_key_pem,
    read_archive,
    verify_manifest,
)
from shared.messages import ModelOffer, decode_message, encode_message
from tests.edge_agent.bundles import zscore_bundle


@pytest.fixture(scope="module")
def key():  # type: ignore[no-untyped-def]
    return generate_signing_key()


def test_round_trip_verifies(key) -> None:  # type: ignore[no-untyped-def]
    manifest, signature, archive = zscore_bundle(key, version="7")
    bundle = open_bundle(archive, key.public_key())
    assert bundle.manifest == manifest
    assert bundle.manifest.signing_key_id == key_id(key)
    assert set(bundle.files) == {"model.onnx"}
    assert manifest.file("model.onnx").size_bytes == len(bundle.files["model.onnx"])
    verify_manifest(manifest, decode_signature(encode_signature(signature)), key.public_key())


def test_keys_round_trip_through_pem(key) -> None:  # type: ignore[no-untyped-def]
    private = load_private_key(private_key_pem(key))
    public = load_public_key(public_key_pem(key))
    assert key_id(private) == key_id(public) == key_id(key)


def test_bundle_signed_by_another_key_is_refused(key) -> None:  # type: ignore[no-untyped-def]
    _m, _s, archive = zscore_bundle(generate_signing_key())
    with pytest.raises(BundleSignatureError, match="does not verify"):
        open_bundle(archive, key.public_key())


def test_tampered_file_is_refused(key) -> None:  # type: ignore[no-untyped-def]
    manifest, signature, archive = zscore_bundle(key)
    files = read_archive(archive)
    model = bytearray(files["model.onnx"])
    model[-1] ^= 0xFF
    tampered = pack_bundle(manifest, signature, {"model.onnx": bytes(model)})
    with pytest.raises(BundleIntegrityError, match="sha256"):
        open_bundle(tampered, key.public_key())


def test_altered_manifest_is_refused(key) -> None:  # type: ignore[no-untyped-def]
    manifest, signature, archive = zscore_bundle(key)
    files = read_archive(archive)
    richer = manifest.model_copy(update={"metrics": {"auc": 0.99}})
    with pytest.raises(BundleSignatureError):
        open_bundle(
            pack_bundle(richer, signature, {"model.onnx": files["model.onnx"]}), key.public_key()
        )


def test_truncated_file_and_truncated_archive_are_refused(key) -> None:  # type: ignore[no-untyped-def]
    manifest, signature, archive = zscore_bundle(key)
    files = read_archive(archive)
    short = pack_bundle(manifest, signature, {"model.onnx": files["model.onnx"][:-100]})
    with pytest.raises(BundleIntegrityError, match="truncated"):
        open_bundle(short, key.public_key())
    with pytest.raises((BundleFormatError, BundleIntegrityError)):
        cut = archive.find(files["model.onnx"][:32]) + 10  # inside the model file
        open_bundle(archive[:cut], key.public_key())


def test_unlisted_or_unsafe_members_are_refused(key) -> None:  # type: ignore[no-untyped-def]
    _m, _s, archive = zscore_bundle(key)
    with tarfile.open(fileobj=io.BytesIO(archive)) as original:
        members = [(m, original.extractfile(m).read()) for m in original]  # type: ignore[union-attr]
    for name in ("extra.bin", "../escape"):
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as tar:
            for info, data in members:
                tar.addfile(info, io.BytesIO(data))
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        with pytest.raises(BundleFormatError):
            open_bundle(out.getvalue(), key.public_key())


def test_unpacked_bundle_verifies_again(key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _m, _s, archive = zscore_bundle(key)
    open_bundle(archive, key.public_key()).write_to(tmp_path / "b")
    assert open_bundle_dir(tmp_path / "b", key.public_key()).manifest.version == "1"
    (tmp_path / "b" / "model.onnx").write_bytes(b"oops")
    with pytest.raises(BundleIntegrityError):
        open_bundle_dir(tmp_path / "b", key.public_key())


def test_model_offer_carries_the_signed_manifest(key) -> None:  # type: ignore[no-untyped-def]
    manifest, signature, _archive = zscore_bundle(key)
    offer = ModelOffer(
        manifest=manifest, signature=encode_signature(signature), bundle_url="https://x/b.tar"
    )
    decoded = decode_message(encode_message(offer), ModelOffer)
    assert canonical_manifest_bytes(decoded.manifest) == canonical_manifest_bytes(manifest)
    verify_manifest(decoded.manifest, decode_signature(decoded.signature), key.public_key())
