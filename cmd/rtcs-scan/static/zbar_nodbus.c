/*
 * Linked into rtcs-scan only with the static libzbar (mk/code.mk): its image
 * scanner refers to libdbus for zbar_image_scanner_request_dbus(), which
 * rtcs-scan never calls. These traps stand in for libdbus, so the process
 * does not load libdbus and, through it, systemd, gcrypt and five
 * compression libraries at every start.
 */
#define ZBAR_NODBUS(name)	void name(void); void name(void) { __builtin_trap(); }

ZBAR_NODBUS(dbus_bus_get)
ZBAR_NODBUS(dbus_bus_release_name)
ZBAR_NODBUS(dbus_bus_request_name)
ZBAR_NODBUS(dbus_connection_flush)
ZBAR_NODBUS(dbus_connection_send)
ZBAR_NODBUS(dbus_error_free)
ZBAR_NODBUS(dbus_error_init)
ZBAR_NODBUS(dbus_error_is_set)
ZBAR_NODBUS(dbus_message_iter_append_basic)
ZBAR_NODBUS(dbus_message_iter_append_fixed_array)
ZBAR_NODBUS(dbus_message_iter_close_container)
ZBAR_NODBUS(dbus_message_iter_init_append)
ZBAR_NODBUS(dbus_message_iter_open_container)
ZBAR_NODBUS(dbus_message_new_signal)
ZBAR_NODBUS(dbus_message_unref)
