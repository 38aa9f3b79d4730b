# Sourced by make-real-cores.sh (cmake): the addresses of libstdc++'s three class typeinfo
# vtables, which check_classes.py uses to recognise C++ objects in the core on its own.
printf "TYPEINFO_VTABLE %lu\n", (unsigned long) &'_ZTVN10__cxxabiv117__class_type_infoE'
printf "TYPEINFO_VTABLE %lu\n", (unsigned long) &'_ZTVN10__cxxabiv120__si_class_type_infoE'
printf "TYPEINFO_VTABLE %lu\n", (unsigned long) &'_ZTVN10__cxxabiv121__vmi_class_type_infoE'
