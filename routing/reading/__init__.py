"""Support mail read into an inquiry: words as data, organisations from domains."""
