/* The Xen public interface, from Debian's libxen-dev headers. */
#ifndef MORGANA_XEN_H
#define MORGANA_XEN_H
#define __XEN_INTERFACE_VERSION__ 0x00040d00
#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/io/console.h>
#endif
