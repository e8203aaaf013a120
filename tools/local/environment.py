"""Start and stop the whole local environment: emulator, functions, HTTP API, site.

The order matters. The ports are bound first, so a port in use fails before anything
runs: the emulator's and the API's by `reservation` before this module loads, and the
site's once the settings name the build directory. The journal is replayed into moto
before the emulator accepts requests. Then the dev stack's resources are created where
missing, and only then does the HTTP API accept requests.
"""

from __future__ import annotations

import logging
import time

from werkzeug.serving import WSGIRequestHandler

from components.settings import CONFIG_NAMESPACE, StackSettings, build_settings
from pfmon_api import routes
from tools.local import FUNCTIONS_DIR
from tools.local.cognito import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    AuthIds,
    PostConfirmationTrigger,
    UsernameNormalizer,
    ensure_demo_user,
    ensure_user_pool,
    reject_unchecked_srp,
)
from tools.local.emulator import (
    Emulator,
    EmulatorRequestHandler,
    enable_totp_validation,
)
from tools.local.endpoints import ENDPOINTS_FILE, Endpoints, write_endpoints
from tools.local.gateway import Gateway, RouteTable, cors_config
from tools.local.jwt_verify import JwtAuthorizer, fetch_jwks
from tools.local.lambda_runtime import FunctionRunner, function_configs
from tools.local.reservation import Reservation
from tools.local.resources import ensure_credentials_key, ensure_tables
from tools.local.servers import HOST, BackgroundServer, QuietRequestHandler
from tools.local.site import SiteApp, site_config
from tools.local.wsgi import WsgiApp
from tools.mock_runtime import stack_config

logger = logging.getLogger("pfmon.local")

DEV_STACK = "dev"


def load_dev_settings() -> StackSettings:
    """Return the dev stack's settings: Pulumi.yaml defaults, then Pulumi.dev.yaml."""
    config = stack_config(DEV_STACK)
    prefix = f"{CONFIG_NAMESPACE}:"
    values = {
        key[len(prefix) :]: value
        for key, value in config.items()
        if key.startswith(prefix)
    }
    return build_settings(values, DEV_STACK, config.get("aws:region", ""))


class LocalEnvironment:
    """The local environment's servers and workers, from start to stop."""

    def __init__(self, reservation: Reservation) -> None:
        self.options = reservation.options
        self._reservation = reservation
        self._servers: list[BackgroundServer] = []
        self._runner: FunctionRunner | None = None

    def start(self) -> Endpoints:
        """Start everything on the reserved ports; raise PortInUseError (site port),
        JournalError or StateDriftError, with nothing left running."""
        started = time.monotonic()
        try:
            return self._start(started)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the servers and function workers, then release the reservation."""
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        (self.options.data_dir / ENDPOINTS_FILE).unlink(missing_ok=True)
        self._reservation.release()

    def _start(self, started: float) -> Endpoints:
        options = self.options
        settings = load_dev_settings()
        site_dir = options.site_dir or settings.site_build_dir
        if site_dir.is_dir():
            self._reservation.bind(options.site)

        emulator, emulator_url, replayed = self._start_emulator(settings)
        key_arn = ensure_credentials_key(emulator, settings)
        runner = self._start_runner(emulator, emulator_url, settings, key_arn)
        table_names = ensure_tables(emulator, settings)
        post_confirmation = runner.config(routes.POST_CONFIRMATION.family)
        auth = ensure_user_pool(emulator, settings, post_confirmation.arn)
        ensure_demo_user(emulator, auth)

        site_url = self._url_of("site")
        api_url = self._start_api(settings, auth, runner, emulator_url, site_url)
        if site_url is not None:
            config = site_config(
                api_url,
                settings.region,
                auth.user_pool_id,
                auth.client_id,
                emulator_url,
            )
            self._serve("site", SiteApp(site_dir, config))

        endpoints = Endpoints(
            api_url=api_url,
            emulator_url=emulator_url,
            site_url=site_url,
            site_dir=str(site_dir),
            region=settings.region,
            user_pool_id=auth.user_pool_id,
            client_id=auth.client_id,
            issuer=auth.issuer,
            demo_email=DEMO_EMAIL,
            demo_password=DEMO_PASSWORD,
            data_dir=str(options.data_dir),
            replayed_writes=replayed,
            startup_seconds=round(time.monotonic() - started, 3),
            table_names=table_names,
        )
        write_endpoints(options.data_dir, endpoints)
        return endpoints

    def _start_emulator(self, settings: StackSettings) -> tuple[Emulator, str, int]:
        """Replay the journal into moto, then serve it.

        Returns the emulator, its URL and the number of writes replayed.
        """
        journal = self._reservation.journal
        emulator = Emulator(settings.region, journal)
        emulator.rewriters.append(UsernameNormalizer(emulator))
        report = emulator.replay(journal.entries())
        if report.rejected:
            logger.warning(
                "stored writes rejected on replay; see the errors above",
                extra={"rejected": report.rejected, "applied": report.applied},
            )
        enable_totp_validation()
        emulator.guards.append(reject_unchecked_srp)
        server = self._serve("emulator", emulator, EmulatorRequestHandler)
        return emulator, server.url, report.applied

    def _start_runner(
        self,
        emulator: Emulator,
        emulator_url: str,
        settings: StackSettings,
        key_arn: str,
    ) -> FunctionRunner:
        runner = FunctionRunner(
            function_configs(settings, key_arn), FUNCTIONS_DIR, emulator_url
        )
        self._runner = runner
        # Every sign-up needs this function; its cold start overlaps with the rest.
        runner.prewarm(routes.POST_CONFIRMATION.family)
        emulator.hooks.append(PostConfirmationTrigger(emulator, runner))
        return runner

    def _start_api(
        self,
        settings: StackSettings,
        auth: AuthIds,
        runner: FunctionRunner,
        emulator_url: str,
        site_url: str | None,
    ) -> str:
        site_origins = []
        if site_url is not None:
            site_origins = [site_url, site_url.replace("127.0.0.1", "localhost")]
        jwks_url = f"{emulator_url}/{auth.user_pool_id}/.well-known/jwks.json"
        authorizer = JwtAuthorizer(
            auth.issuer, [auth.client_id], lambda: fetch_jwks(jwks_url)
        )
        gateway = Gateway(
            RouteTable(routes.ROUTES),
            authorizer,
            runner,
            cors_config(settings, site_origins),
        )
        return self._serve("api", gateway).url

    def _url_of(self, role: str) -> str | None:
        """Return the URL a reserved but not yet served port will have."""
        listener = self._reservation.listeners.get(role)
        if listener is None:
            return None
        return f"http://{HOST}:{listener.getsockname()[1]}"

    def _serve(
        self,
        role: str,
        app: WsgiApp,
        handler: type[WSGIRequestHandler] = QuietRequestHandler,
    ) -> BackgroundServer:
        listener = self._reservation.listeners[role]
        server = BackgroundServer(role, listener, app, handler)
        server.start()
        self._servers.append(server)
        return server
