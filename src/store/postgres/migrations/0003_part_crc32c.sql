-- Each part's CRC-32C, computed as it arrives, so complete combines 4-byte values instead of
-- reading the file a second time for the checksum. NULL: not known (the assembly computes it).
-- BIGINT, not INTEGER: a CRC-32C is unsigned, up to 2^32 - 1, past INTEGER's 2^31 - 1.
ALTER TABLE upload_parts ADD COLUMN crc32c BIGINT;
