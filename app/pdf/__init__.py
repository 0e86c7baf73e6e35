"""PDF rendering of letters and envelopes.

Pure functions (data in, bytes out) built on WeasyPrint. Untrusted text is escaped by an
autoescaping Jinja environment, and every resource WeasyPrint wants to load goes through a
restricted URL fetcher that serves only the bundled fonts. Stylesheets and the font
configuration are built once per process.
"""
