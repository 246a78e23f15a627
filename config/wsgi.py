import os

from django.core.wsgi import get_wsgi_application

from xiaodai.core.startup import settle

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
settle()  # freeze what startup made, out of the collector's way (xiaodai/core/startup.py)
