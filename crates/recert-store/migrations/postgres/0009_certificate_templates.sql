-- A program's own certificate template (sanitized SVG with {{ field }} placeholders);
-- NULL draws the default one.
ALTER TABLE programs ADD COLUMN certificate_template TEXT;
