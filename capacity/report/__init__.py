"""The self-contained HTML capacity report: plots (matplotlib -> inline SVG) and a Jinja2 template."""
