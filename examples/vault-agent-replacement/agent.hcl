# Vault Agent in process-supervisor mode (`vault agent -config=agent.hcl`):
# the setup that secretvisor.yaml in this folder replaces. The API server
# gets two static secrets from KV v2 and a database user from the database
# secrets engine, and is restarted when any of them changes.

vault {
  address = "https://vault.internal:8200"
  ca_cert = "/etc/vault/ca.pem"
}

auto_auth {
  method "approle" {
    mount_path = "auth/approle"
    config = {
      role_id_file_path                   = "/etc/secretvisor/role-id"
      secret_id_file_path                 = "/etc/secretvisor/secret-id"
      remove_secret_id_file_after_reading = false
    }
  }
}

template_config {
  static_secret_render_interval = "5m"
  exit_on_retry_failure         = true
}

env_template "STRIPE_API_KEY" {
  contents             = "{{ with secret \"secret/data/noxus/api\" }}{{ .Data.data.STRIPE_API_KEY }}{{ end }}"
  error_on_missing_key = true
}

env_template "SESSION_SECRET" {
  contents             = "{{ with secret \"secret/data/noxus/api\" }}{{ .Data.data.SESSION_SECRET }}{{ end }}"
  error_on_missing_key = true
}

env_template "DB_USER" {
  contents             = "{{ with secret \"database/creds/api\" }}{{ .Data.username }}{{ end }}"
  error_on_missing_key = true
}

env_template "DB_PASSWORD" {
  contents             = "{{ with secret \"database/creds/api\" }}{{ .Data.password }}{{ end }}"
  error_on_missing_key = true
}

exec {
  command                   = ["/usr/local/bin/api-server", "--port", "8080"]
  restart_on_secret_changes = "always"
  restart_stop_signal       = "SIGTERM"
}
