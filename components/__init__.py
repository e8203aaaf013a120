"""PFMON's Pulumi components and the settings module that configures them."""
