from django.urls import path

from . import views
from .hotline_12345 import views as hotline_views
from .sensors import views as sensor_views

app_name = "integrations"

urlpatterns = [
    path("", views.home, name="home"),
    path("keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
    path("<str:kind>/<int:pk>/toggle/", views.toggle, name="toggle"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
    path("hotline/<slug:code>/import/", views.hotline_import, name="hotline_import"),
    # Machine endpoints (signed; no session, no CSRF).
    path("hotline/<slug:code>/orders", hotline_views.order_webhook, name="hotline_orders"),
    path("hotline/<slug:code>/orders/batch", hotline_views.orders_batch_webhook, name="hotline_orders_batch"),
    path("sensors/<slug:code>/alerts", sensor_views.alert_webhook, name="sensor_alerts"),
]
