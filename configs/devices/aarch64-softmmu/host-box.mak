# SPDX-License-Identifier: GPL-2.0-or-later
# The devices of the host box's L1 QEMU (scripts/build-qemu.sh
# --host=arm64, with --without-default-devices): the virt board, which
# selects the SMMUv3 (and with it the accelerated SMMUv3 and the Tegra241
# CMDQV), VFIO passthrough over iommufd, and what the box's L2 guests and
# `make host-box` put beside the passed-through devices: an emulated
# virtio disk, PCIe root ports (hotplug) and pxb-pcie (a second SMMU).
CONFIG_ARM_VIRT=y
CONFIG_VFIO=y
CONFIG_VFIO_PCI=y
CONFIG_IOMMUFD=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_PCIE_PORT=y
CONFIG_PXB=y
# (virt selects ACPI_CXL, whose tables call into the CXL host code, which
# needs the type 3 memory device)
CONFIG_CXL=y
CONFIG_CXL_MEM_DEVICE=y
