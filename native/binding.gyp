{
  "targets": [
    {
      "target_name": "bigbrotr_secp256k1",
      "sources": ["src/schnorr_verify.c"],
      "libraries": ["-lsecp256k1"],
      "cflags": ["-O3", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
