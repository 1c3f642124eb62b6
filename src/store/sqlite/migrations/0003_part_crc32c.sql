-- Each part's CRC-32C, computed as it arrives, so complete combines 4-byte values instead of
-- reading the file a second time for the checksum. NULL: not known (the assembly computes it).
ALTER TABLE upload_parts ADD COLUMN crc32c INTEGER;
