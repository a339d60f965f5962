"""The personal-data vault: a safe within a safe within another safe.

- Every personal field is sealed with AES-GCM under its customer's own **data key** (DEK), with
  the customer id and the field name as associated data, so a sealed value cannot be moved to
  another customer or field.
- Data keys are stored **wrapped** by a key-encryption key (KEK) from the master key file
  (``CONSENTRY_MASTER_KEY_FILE``), in a **key store** that is a database of its own
  (``CONSENTRY_KEYSTORE_URL``, an SQLite file beside the data by default). Erasure deletes the
  data key: every copy of the customer's data — including backups of the main database taken
  earlier — is from then on ciphertext nobody can open (crypto-shredding). That only holds if the
  key store is not backed up with the data; see docs/vault.md.
- Look-ups never need plaintext: identifiers are found through **blind indexes**, HMAC-SHA-256
  under a key derived from the master key file's index secret.
- Rotating the KEK re-wraps data keys only; the data itself is never re-encrypted.
"""
