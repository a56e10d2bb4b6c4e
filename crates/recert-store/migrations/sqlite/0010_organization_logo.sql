-- An organization's logo, shown on its certificates and verification pages: a PNG as
-- uploaded (checked), or an SVG as sanitized; NULL when it has none.
ALTER TABLE organizations ADD COLUMN logo BLOB;
ALTER TABLE organizations ADD COLUMN logo_type TEXT;
