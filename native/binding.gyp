{
  "targets": [
    {
      "target_name": "bigbrotr_secp256k1",
      "sources": [
        "src/schnorr_verify.c",
        "vendor/secp256k1/src/secp256k1.c",
        "vendor/secp256k1/src/precomputed_ecmult.c",
        "vendor/secp256k1/src/precomputed_ecmult_gen.c"
      ],
      "include_dirs": ["vendor/secp256k1/include"],
      "cflags": ["-O3", "-Wall", "-Wno-unused-function"],
      "defines": [
        "NAPI_VERSION=8",
        "SECP256K1_STATIC",
        "ENABLE_MODULE_EXTRAKEYS=1",
        "ENABLE_MODULE_SCHNORRSIG=1",
        "ECMULT_WINDOW_SIZE=15",
        "COMB_BLOCKS=43",
        "COMB_TEETH=6"
      ]
    }
  ]
}
