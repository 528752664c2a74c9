from django.contrib.auth import views as auth_views
from django.urls import path

from . import security_views, views

urlpatterns = [
    path("login/", security_views.LoginView.as_view(), name="login"),
    path("login/verify/", security_views.login_verify, name="login_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("2fa/", security_views.twofactor_manage, name="twofactor_manage"),
    path("2fa/setup/", security_views.twofactor_setup, name="twofactor_setup"),
    path("tokens/", security_views.api_tokens, name="api_tokens"),
    path("tokens/all/", security_views.api_tokens_admin, name="api_tokens_admin"),
    path("tokens/<int:token_id>/revoke/", security_views.api_token_revoke, name="api_token_revoke"),
    path("lockouts/", security_views.lockouts, name="lockouts"),
    path("lockouts/<int:throttle_id>/unlock/", security_views.lockout_unlock, name="lockout_unlock"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/active/", views.user_toggle_active, name="user_toggle_active"),
    path("users/<int:user_id>/2fa-reset/", security_views.user_2fa_reset, name="user_2fa_reset"),
    path("departments/", views.departments, name="departments"),
]
