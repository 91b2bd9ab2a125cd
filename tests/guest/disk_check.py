# SPDX-License-Identifier: GPL-2.0-or-later
"""The guest side of the disk test: a virtio-blk-pci disk behind an SMMU.

The guest proves that the disk's DMA went through IOMMU translation (the
device sits in an IOMMU group of DMA type, the SMMU registered with the
IOMMU core), that MSI-X interrupts were delivered, and that every byte of
the disk read back matches the checksum the host computed.
"""

VIRTIO_BLK = ('0x1af4', '0x1042')


def firmware_check(mode):
    """The guest must have been described the way the test asked."""
    if mode == 'acpi':
        return "check firmware-acpi test -e /sys/firmware/acpi/tables/IORT\n"
    return ("check firmware-dt sh -c '! test -e /sys/firmware/acpi/tables/IORT"
            " && test -e /sys/firmware/devicetree/base'\n")


def script(expect_sha256, nbytes, mode):
    return firmware_check(mode) + f'''
dev=$(pci_find {VIRTIO_BLK[0]} {VIRTIO_BLK[1]})
check virtio-blk-present test -n "$dev"
check smmu-registered sh -c 'ls /sys/class/iommu | grep -q "^smmu3\\."'
check iommu-group test -e "$dev/iommu_group"
grp=$(basename "$(readlink "$dev/iommu_group")")
echo "iommu group $grp type $(cat /sys/kernel/iommu_groups/$grp/type)"
check dma-translated grep -qE '^DMA' /sys/kernel/iommu_groups/$grp/type
sum=$(dd if=/dev/vda bs=64k 2>/dev/null | head -c {nbytes} | sha256sum | cut -d' ' -f1)
echo "disk sha256 $sum"
check disk-checksum test "$sum" = "{expect_sha256}"
grep -i virtio /proc/interrupts
check msix-delivered sh -c "grep -i 'msi' /proc/interrupts | grep virtio | awk '{{s=0; for (i=2;i<=NF;i++) if (\\$i ~ /^[0-9]+$/) s+=\\$i; t+=s}} END {{exit !(t>0)}}'"
'''


def expect(mode):
    return EXPECT + ['firmware-' + mode]


EXPECT = ['virtio-blk-present', 'smmu-registered', 'iommu-group',
          'dma-translated', 'disk-checksum', 'msix-delivered']


def qemu_args(disk, bus='pcie.0'):
    return ['-drive', f'if=none,id=disk0,file={disk},format=raw,readonly=on',
            '-device', f'virtio-blk-pci,drive=disk0,bus={bus},'
            'disable-legacy=on,iommu_platform=on']
