"""The bundled demo: a small local site with news, counter-speech, research and a few violating pages."""
