# SPDX-License-Identifier: GPL-2.0-or-later
# The devices of the fuzzing build (scripts/build-qemu-fuzz.sh, with
# --without-default-devices): the virt board, which selects the SMMUv3
# (and with it the accelerated SMMUv3 and the Tegra241 CMDQV), and the
# edu endpoint that does DMA behind it. Nothing else is compiled.
CONFIG_ARM_VIRT=y
CONFIG_EDU=y
# the iommufd backends, iommufd-sim among them (virt only implies them)
CONFIG_VFIO=y
CONFIG_VFIO_PCI=y
CONFIG_IOMMUFD=y
# (virt selects ACPI_CXL, whose tables call into the CXL host code, which
# needs pxb-pcie, the type 3 memory device and its root port base)
CONFIG_PXB=y
CONFIG_CXL=y
CONFIG_CXL_MEM_DEVICE=y
CONFIG_PCIE_PORT=y
